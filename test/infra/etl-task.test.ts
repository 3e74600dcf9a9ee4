/**
 * The stack with the team's ETL image (`etlImage`): an ECS Fargate task of that image runs
 * the queued pipeline jobs (`benchsight etl run` with the pipeline file of the image), on
 * a schedule; the worker and the bot are told so (BENCHSIGHT_ETL_TASK). Least privilege:
 * ECS may pull that repository's image, write that log group and read the database secret;
 * EventBridge may run that task on that cluster only.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ecrRepositoryArn } from '../../infra/etl-task';
import { parseStackConfig } from '../../infra/config';
import { wildcardViolations } from '../../infra/policies';
import { baseConfig, runStack, type StackRun } from './support/stack';
import { unwrap } from './support/walk';

const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/benchsight-etl:1.4.0';
let run: StackRun;
beforeAll(async () => {
  run = await runStack(
    baseConfig({
      'benchsight-ops:etlImage': IMAGE,
      'benchsight-ops:etlSubnetIds': '["subnet-0aaa111","subnet-0bbb222"]',
      'benchsight-ops:etlTaskMemoryMb': '8192',
    }),
  );
}, 180_000);

const policyOf = (namePart: string) => JSON.parse(unwrap(run.one('aws:iam/rolePolicy:RolePolicy', namePart).inputs.policy) as string);

describe('the ETL pipeline on ECS Fargate', () => {
  it("runs the team's image as a Fargate task: `benchsight etl run` with the pipeline file, DATABASE_URL from the secret", () => {
    const task = run.one('aws:ecs/taskDefinition:TaskDefinition').inputs;
    expect(task).toMatchObject({ family: 'bs-test-etl', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '1024', memory: '8192' });
    const [container] = JSON.parse(unwrap(task.containerDefinitions) as string);
    expect(container).toMatchObject({
      image: IMAGE,
      command: ['npx', 'benchsight', 'etl', 'run'],
      environment: expect.arrayContaining([{ name: 'BENCHSIGHT_ETL_PIPELINE', value: '/etl/etl-pipeline.json' }]),
      secrets: [{ name: 'DATABASE_URL', valueFrom: expect.stringMatching(/^arn:aws:secretsmanager:/) }],
      logConfiguration: { logDriver: 'awslogs', options: expect.objectContaining({ 'awslogs-group': '/ecs/bs-test-etl' }) },
    });
    // No database URL in the task definition itself: it is read from the secret when the task starts.
    expect(JSON.stringify(container)).not.toContain('postgresql://');
  });

  it('a schedule starts it in the configured subnets, with a public IP', () => {
    expect(run.one('aws:cloudwatch/eventRule:EventRule', 'etl-schedule').inputs).toMatchObject({
      name: 'bs-test-etl-schedule',
      scheduleExpression: 'rate(5 minutes)',
    });
    const target = run.one('aws:cloudwatch/eventTarget:EventTarget', 'etl-schedule-target').inputs;
    expect(unwrap(target.ecsTarget)).toMatchObject({
      launchType: 'FARGATE',
      taskCount: 1,
      networkConfiguration: { subnets: ['subnet-0aaa111', 'subnet-0bbb222'], assignPublicIp: true },
    });
  });

  it('the worker and the bot leave process_game to the task (BENCHSIGHT_ETL_TASK)', () => {
    for (const fn of ['bs-test-worker', 'bs-test-bot']) {
      const f = run.ofType('aws:lambda/function:Function').find((r) => r.inputs.name === fn)!;
      expect(unwrap(f.inputs.environment).variables.BENCHSIGHT_ETL_TASK, fn).toBe('bs-test-etl');
    }
  });

  it('least privilege: pull that repository, write that log group, read the database secret; run that task on that cluster', () => {
    const exec = policyOf('etl-execution-policy');
    expect(exec.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['WriteOwnLogs', 'ReadOwnSecrets', 'PullImage', 'RegistryLogin']);
    expect(exec.Statement.find((s: { Sid: string }) => s.Sid === 'PullImage').Resource).toEqual([
      'arn:aws:ecr:eu-west-1:123456789012:repository/benchsight-etl',
    ]);
    expect(wildcardViolations(exec)).toEqual([]);
    const events = policyOf('etl-events-policy');
    expect(events.Statement[0]).toMatchObject({ Action: ['ecs:RunTask'], Condition: { ArnEquals: { 'ecs:cluster': expect.any(String) } } });
    expect(events.Statement[0].Resource[0]).toMatch(/:\*$/);
    expect(wildcardViolations(events)).toEqual([]);
  });
});

describe('the ETL settings', () => {
  it('etlImage needs the subnets; a bad CPU size is refused by name', () => {
    expect(() => parseStackConfig(baseConfig({ 'benchsight-ops:etlImage': IMAGE }))).toThrow(/benchsight-ops:etlSubnetIds: is missing: the ETL task/);
    expect(() =>
      parseStackConfig(baseConfig({ 'benchsight-ops:etlImage': IMAGE, 'benchsight-ops:etlSubnetIds': '["subnet-0a"]', 'benchsight-ops:etlTaskCpu': '3000' })),
    ).toThrow(/benchsight-ops:etlTaskCpu: must be a Fargate CPU size/);
    expect(ecrRepositoryArn('ghcr.io/league/etl:1')).toBeUndefined();
  });
});
