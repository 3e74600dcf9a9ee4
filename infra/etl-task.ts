/**
 * The team's ETL pipeline, deployed: an ECS Fargate task of the team's container image
 * (stack setting `etlImage`), started by an EventBridge schedule. The container runs
 * `benchsight etl run` with BENCHSIGHT_ETL_PIPELINE pointing at the pipeline file in the
 * image: it takes the queued `process_game` jobs one after another (the same runner as
 * locally: loader/etl/pipeline-run.ts: steps as processes, the job's log in the database,
 * the first failing step stops the job, the export loaded as one request) and stops when
 * the queue has none. Fargate, not Lambda: the team's ETL of a game can run past Lambda's
 * 15 minutes, and its image (Python, pandas, the ETL) is theirs. See infra/README.md.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { etlExecutionPolicy, etlSchedulePolicy, type PolicyDocument } from './policies';
import type { StoredSecret } from './secrets';

export interface EtlTaskArgs {
  namePrefix: string;
  region: string;
  image: string;
  /** The pipeline file inside the image. */
  pipelineFile: string;
  cpu: number;
  memoryMb: number;
  schedule: string;
  subnetIds: string[];
  securityGroupIds?: string[];
  databaseSecret: StoredSecret;
  logRetentionDays: number;
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]` → the repository's ARN; undefined for another registry. */
export function ecrRepositoryArn(image: string): string | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)/.exec(image);
  return m ? `arn:aws:ecr:${m[2]}:${m[1]}:repository/${m[3]}` : undefined;
}

const ecsTasksTrust: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};
const eventsTrust: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

export class EtlTask extends pulumi.ComponentResource {
  readonly clusterArn: pulumi.Output<string>;
  readonly taskDefinitionArn: pulumi.Output<string>;
  /** The task definition's family: the worker and the bot get it (BENCHSIGHT_ETL_TASK). */
  readonly family: string;

  constructor(name: string, args: EtlTaskArgs, opts?: pulumi.ComponentResourceOptions) {
    super('benchsight:infra:EtlTask', name, {}, opts);
    const parent = { parent: this };
    this.family = `${args.namePrefix}-etl`;

    const cluster = new aws.ecs.Cluster(`${name}-cluster`, { name: `${args.namePrefix}-etl` }, parent);
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: `/ecs/${args.namePrefix}-etl`, retentionInDays: args.logRetentionDays }, parent);

    // What ECS needs to start the container: pull the image, write its logs, read the database secret into DATABASE_URL.
    const executionRole = new aws.iam.Role(
      `${name}-execution-role`,
      { name: `${args.namePrefix}-etl-execution`, assumeRolePolicy: JSON.stringify(ecsTasksTrust) },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-execution-policy`,
      {
        role: executionRole.id,
        policy: pulumi
          .all([logGroup.arn, args.databaseSecret.arn])
          .apply(([lg, secretArn]) =>
            JSON.stringify(etlExecutionPolicy({ logGroupArn: lg, secretArns: [secretArn], repositoryArn: ecrRepositoryArn(args.image) })),
          ),
      },
      parent,
    );

    const task = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family: this.family,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: String(args.cpu),
        memory: String(args.memoryMb),
        executionRoleArn: executionRole.arn,
        runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
        containerDefinitions: pulumi.all([logGroup.name, args.databaseSecret.arn]).apply(([lg, secretArn]) =>
          JSON.stringify([
            {
              name: 'etl',
              image: args.image,
              essential: true,
              command: ['npx', 'benchsight', 'etl', 'run'],
              environment: [
                { name: 'BENCHSIGHT_ETL_PIPELINE', value: args.pipelineFile },
                { name: 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', value: 'true' },
              ],
              secrets: [{ name: 'DATABASE_URL', valueFrom: secretArn }],
              logConfiguration: {
                logDriver: 'awslogs',
                options: { 'awslogs-group': lg, 'awslogs-region': args.region, 'awslogs-stream-prefix': 'etl' },
              },
            },
          ]),
        ),
      },
      parent,
    );

    // The family's ARN (no revision): the schedule runs the latest revision.
    const familyArn = task.arn.apply((a) => a.replace(/:\d+$/, ''));

    // The schedule starts a task; a task with nothing queued ends at once.
    const rule = new aws.cloudwatch.EventRule(
      `${name}-schedule`,
      { name: `${args.namePrefix}-etl-schedule`, description: `${args.namePrefix}: run the queued ETL pipeline jobs`, scheduleExpression: args.schedule },
      parent,
    );
    const eventsRole = new aws.iam.Role(
      `${name}-events-role`,
      { name: `${args.namePrefix}-etl-events`, assumeRolePolicy: JSON.stringify(eventsTrust) },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-events-policy`,
      {
        role: eventsRole.id,
        policy: pulumi
          .all([familyArn, cluster.arn, executionRole.arn])
          .apply(([taskArn, clusterArn, roleArn]) =>
            JSON.stringify(etlSchedulePolicy({ taskDefinitionArn: `${taskArn}:*`, clusterArn, passRoleArns: [roleArn] })),
          ),
      },
      parent,
    );
    new aws.cloudwatch.EventTarget(
      `${name}-schedule-target`,
      {
        rule: rule.name,
        arn: cluster.arn,
        roleArn: eventsRole.arn,
        ecsTarget: {
          taskDefinitionArn: familyArn,
          launchType: 'FARGATE',
          taskCount: 1,
          networkConfiguration: { subnets: args.subnetIds, securityGroups: args.securityGroupIds, assignPublicIp: true },
        },
      },
      parent,
    );

    this.clusterArn = cluster.arn;
    this.taskDefinitionArn = task.arn;
    this.registerOutputs({ clusterArn: this.clusterArn, taskDefinitionArn: this.taskDefinitionArn });
  }
}
