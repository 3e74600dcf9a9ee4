import { describe, expect, it } from 'vitest';
import {
  botPolicy,
  denyInsecureTransportPolicy,
  lambdaAssumeRolePolicy,
  loaderPolicy,
  migratePolicy,
  WILDCARD_RESOURCE_ALLOWLIST,
  wildcardViolations,
  workerPolicy,
  type PolicyDocument,
} from '../../infra/policies';

const bucketArn = 'arn:aws:s3:::bs-drop-1';
const logGroupArn = 'arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/bs-loader';
const worker = 'arn:aws:lambda:eu-west-1:1:function:bs-worker';
const secret = 'arn:aws:secretsmanager:eu-west-1:1:secret:bs/db-x';

describe('IAM policy documents', () => {
  it('scope the loader to its bucket, its outcome prefixes, its queue, its secret and the worker', () => {
    const doc = loaderPolicy({ bucketArn, logGroupArn, deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:1:dlq', secretArns: [secret], workerFunctionArn: worker });
    const put = doc.Statement.find((s) => s.Action.includes('s3:PutObject'));
    expect(put?.Resource).toEqual([`${bucketArn}/processed/*`, `${bucketArn}/failed/*`, `${bucketArn}/refused/*`]);
    expect(doc.Statement.find((s) => s.Sid === 'WriteOwnLogs')?.Resource).toEqual([`${logGroupArn}:*`]);
    expect(wildcardViolations(doc)).toEqual([]);
  });

  it('give the worker, the bot and the migrate function no wildcard either', () => {
    const docs: PolicyDocument[] = [
      workerPolicy({ bucketArn, logGroupArn, secretArns: [secret] }),
      botPolicy({ logGroupArn, secretArns: [secret], workerFunctionArn: worker }),
      migratePolicy({ logGroupArn, databaseSecretArn: secret }),
      lambdaAssumeRolePolicy(),
    ];
    for (const d of docs) expect(wildcardViolations(d)).toEqual([]);
  });

  it('deny non-TLS requests to the bucket and its objects; a Deny may be broad', () => {
    const doc = denyInsecureTransportPolicy(bucketArn);
    expect(doc.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    ]);
    expect(wildcardViolations(doc)).toEqual([]);
  });

  it('report wildcard actions and "*" resources in Allow statements', () => {
    // The one action AWS allows on "*" only, with its reason: the ETL task's registry login.
    expect(WILDCARD_RESOURCE_ALLOWLIST.map((w) => w.action)).toEqual(['ecr:GetAuthorizationToken']);
    expect(
      wildcardViolations({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'A', Effect: 'Allow', Action: ['s3:Get*'], Resource: [`${bucketArn}/*`] },
          { Sid: 'B', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' },
          { Sid: 'C', Effect: 'Allow', NotAction: 's3:DeleteObject', Resource: 'arn:x' },
        ],
      }),
    ).toEqual(['A: wildcard action "s3:Get*"', 'B: "sqs:SendMessage" on resource "*"', 'C: NotAction in an Allow']);
  });
});
