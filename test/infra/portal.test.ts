/**
 * The Admin Portal in the stack (infra/portal.ts), run against Pulumi mocks: created only
 * when the stack names its Supabase project; a Function URL whose URL is a stack output;
 * the bucket's CORS lets that origin PUT and nothing else; its role is least-privilege;
 * the JWT secret lives in Secrets Manager, not in the function's environment.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { portalPolicy, uploadCorsRules } from '../../infra/portal';
import { wildcardViolations } from '../../infra/policies';
import { baseConfig, resolvedValue, runStack, type StackRun } from './support/stack';

const JWT = 'fake-supabase-jwt-secret-7f3e9a1b2c';
let run: StackRun;
beforeAll(async () => {
  run = await runStack(baseConfig({ 'benchsight-ops:portalJwtSecret': JWT }));
}, 60_000);

describe('the Portal in the stack', () => {
  it('is a Lambda behind a public Function URL, whose URL is a stack output', async () => {
    const fn = run.one('aws:lambda/function:Function', 'portal-function');
    expect(fn.inputs.environment.variables).toMatchObject({
      PORTAL_AUTH: 'supabase',
      SUPABASE_URL: 'https://abcdefghij.supabase.co',
      PORTAL_UPLOADS: 'presigned',
    });
    // The stack's one roles setting, the bot's too.
    const bot = run.one('aws:lambda/function:Function', 'bot-function');
    expect(JSON.parse(fn.inputs.environment.variables.BENCHSIGHT_ROLES)).toEqual({ admins: ['U1', 'ada@league.example'], operators: ['U2'], viewers: ['*'] });
    expect(bot.inputs.environment.variables.BENCHSIGHT_ROLES).toBe(fn.inputs.environment.variables.BENCHSIGHT_ROLES);
    expect(JSON.stringify(fn.inputs.environment.variables)).not.toContain(JWT);
    expect(fn.inputs.environment.variables.SUPABASE_JWT_SECRET_ARN).toMatch(/^arn:aws:secretsmanager:/);
    expect(run.one('aws:lambda/functionUrl:FunctionUrl', 'portal-url').inputs.authorizationType).toBe('NONE');
    expect(await resolvedValue(run.program.portalUrl as any)).toBe('https://abcdefghijklmnop.lambda-url.eu-west-1.on.aws/');
  });

  it("the bucket's CORS allows only the Portal's origin, only PUT", () => {
    const cors = run.one('aws:s3/bucketCorsConfiguration:BucketCorsConfiguration', 'portal-upload-cors').inputs;
    expect(cors.corsRules).toEqual([
      {
        allowedMethods: ['PUT'],
        allowedOrigins: ['https://abcdefghijklmnop.lambda-url.eu-west-1.on.aws'],
        allowedHeaders: ['content-type'],
        exposeHeaders: ['etag'],
        maxAgeSeconds: 600,
      },
    ]);
    expect(uploadCorsRules('https://x.example')[0]!.allowedOrigins).toEqual(['https://x.example']);
  });

  it('its role writes only under portal/ of the bucket, reads the drops and only its secrets, and wakes only the worker', () => {
    const doc = JSON.parse(run.one('aws:iam/rolePolicy:RolePolicy', 'portal-policy').inputs.policy);
    expect(wildcardViolations(doc)).toEqual([]);
    const actions = doc.Statement.flatMap((s: any) => [].concat(s.Action));
    expect(actions.sort()).toEqual(
      [
        'lambda:InvokeFunction',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:AbortMultipartUpload',
        's3:GetObject',
        's3:GetObjectVersion',
        's3:ListBucket',
        's3:PutObject',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
    const put = doc.Statement.find((s: any) => ([] as string[]).concat(s.Action).includes('s3:PutObject'));
    expect(put.Resource).toEqual([expect.stringMatching(/^arn:aws:s3:::.+\/portal\/\*$/)]);
    const invoke = doc.Statement.find((s: any) => ([] as string[]).concat(s.Action).includes('lambda:InvokeFunction'));
    expect(invoke.Resource).toEqual([expect.stringContaining('function:bs-test-worker')]);
    expect(portalPolicy({ logGroupArn: 'lg', secretArns: ['s'], bucketArn: 'arn:aws:s3:::b', workerFunctionArn: 'w' }).Statement).toHaveLength(6);
  });
});
