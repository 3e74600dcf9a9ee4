/**
 * What AWS accepts, on the inputs the program gives its resources (under mocks): names,
 * descriptions and schedules within AWS's documented limits, at the longest name prefix
 * the configuration allows; and the IAM actions each function's own AWS SDK calls need —
 * read from the code in its bundle — all granted by its policy. A provider's preview lets
 * any of these through; the first `pulumi up` (or the first load) fails on them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_NAMES, readStamp, ROOT } from '../../infra/bundles';
import type { PolicyDocument } from '../../infra/policies';
import { freshBundles } from './support/bundles';
import { constraintViolations, scheduleProblem } from './support/constraints';
import { needsOf, sdkCalls, type Need } from './support/sdk-calls';
import { baseConfig, runStack, type StackRun } from './support/stack';

/** The longest prefix the configuration accepts (24 characters). */
const PREFIX = 'benchsight-production-x1';

let run: StackRun;
beforeAll(async () => {
  await freshBundles();
  run = await runStack(baseConfig({ 'benchsight-ops:namePrefix': PREFIX }));
}, 180_000);

describe('names, descriptions and schedules AWS accepts', () => {
  it('has none that AWS would refuse, at the longest prefix', () => {
    expect(PREFIX).toHaveLength(24);
    expect(constraintViolations(run.resources, PREFIX)).toEqual([]);
  });

  it('gives IAM roles, alarms and rules explicit names that carry the prefix (dev and prod in one account are told apart)', () => {
    for (const type of ['aws:iam/role:Role', 'aws:cloudwatch/metricAlarm:MetricAlarm', 'aws:cloudwatch/eventRule:EventRule']) {
      const names = run.ofType(type).map((r) => r.inputs.name as string);
      expect(names.length, type).toBeGreaterThan(0);
      for (const n of names) expect(n, type).toMatch(new RegExp(`^${PREFIX}-`));
      expect(new Set(names).size, type).toBe(names.length);
    }
  });

  it('the rules themselves catch what AWS refuses', () => {
    const role = { type: 'aws:iam/role:Role', name: 'r', state: {}, inputs: { name: `${PREFIX}-bot-role`, description: 'the Slack bot (/benchsight …)' } };
    expect(constraintViolations([role], PREFIX)).toEqual([expect.stringContaining('description "the Slack bot (/benchsight …)" does not match')]);
    const rds = { type: 'aws:rds/instance:Instance', name: 'db', state: {}, inputs: { identifier: 'bs--x-db' } };
    expect(constraintViolations([rds], 'bs')).toEqual([expect.stringContaining('identifier "bs--x-db"')]);
    const fn = { type: 'aws:lambda/function:Function', name: 'f', state: {}, inputs: { name: `${'x'.repeat(60)}-worker` } };
    expect(constraintViolations([fn], 'x')).toEqual([expect.stringContaining('more than 64')]);
    expect(scheduleProblem('rate(5 minutes)')).toBeUndefined();
    expect(scheduleProblem('rate(1 minute)')).toBeUndefined();
    expect(scheduleProblem('cron(0/15 * ? * MON-FRI *)')).toBeUndefined();
    expect(scheduleProblem('rate(1 minutes)')).toMatch(/rate\(1 minute\)/);
    expect(scheduleProblem('rate(5 minute)')).toMatch(/rate\(5 minutes\)/);
    expect(scheduleProblem('cron(0 * * * *)')).toMatch(/6 fields/);
  });
});

describe('IAM actions derived from the AWS SDK calls in each bundle', () => {
  const policyOf = (name: string): PolicyDocument => JSON.parse(run.one('aws:iam/rolePolicy:RolePolicy', `${name}-policy`).inputs.policy);
  const bucketArn = () => run.one('aws:s3/bucket:Bucket').state.arn as string;

  function granted(doc: PolicyDocument, need: Need): boolean {
    return doc.Statement.some((s) => {
      if (s.Effect !== 'Allow' || !([] as string[]).concat(s.Action).includes(need.action)) return false;
      const resources = ([] as string[]).concat(s.Resource ?? []);
      return resources.some((r) => {
        if (need.on === 'bucket-object') return r.startsWith(`${bucketArn()}/`);
        if (need.on === 'bucket') return r === bucketArn();
        if (need.on === 'secret') return r.startsWith('arn:aws:secretsmanager:');
        return r.startsWith('arn:aws:lambda:');
      });
    });
  }

  for (const name of LAMBDA_NAMES) {
    it(`the ${name} function may do everything its code asks of AWS`, () => {
      const stamp = readStamp(name);
      expect(stamp, `dist/${name}.build.json`).toBeDefined();
      const calls = sdkCalls(ROOT, stamp!.sources);
      const missing = calls
        .flatMap(needsOf)
        .filter((need) => !granted(policyOf(name), need))
        .map(
          (n) =>
            `${n.call.where}: ${n.call.command}(${n.call.props.join(', ')}) needs ${n.action} on the ${n.on}, which the ${name} function's policy does not allow`,
        );
      expect(missing).toEqual([]);
    });
  }

  it('reads the calls from the code: the loader reads objects by version and copies them', () => {
    const calls = sdkCalls(ROOT, readStamp('loader')!.sources);
    const get = calls.find((c) => c.command === 'GetObjectCommand' && c.where.startsWith('loader/s3/objects.ts'));
    expect(get?.props).toContain('VersionId');
    expect(needsOf(get!).map((n) => n.action)).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    const copy = calls.find((c) => c.command === 'CopyObjectCommand');
    expect(needsOf(copy!).map((n) => n.action)).toContain('s3:GetObjectVersion');
    expect(() => needsOf({ where: 'x.ts:1', command: 'DeleteObjectCommand', props: [], sourceMayHaveVersion: false })).toThrow(
      /DeleteObjectCommand is an AWS SDK call the constraint test does not know/,
    );
  });
});
