/**
 * The job worker: runs queued work (etl_queue) — ETL runs, and loads or deletes asked
 * for in Slack. The bot and the loader hand work to it by invoking it asynchronously;
 * an EventBridge schedule also runs it, so queued work never waits for a hand-off.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { functionErrorAlarm } from './alerts';
import { workerPolicy } from './policies';
import { secretsRevision, type StoredSecret } from './secrets';
import { ENGINE_NODE_OPTIONS, RDS_CA_ENV, ServiceFunction } from './service-function';

export interface WorkerFunctionArgs {
  namePrefix: string;
  bucketName: pulumi.Input<string>;
  bucketArn: pulumi.Input<string>;
  databaseSecret: StoredSecret;
  botTokenSecret: StoredSecret;
  notifyChannel: string;
  schedule: string;
  reservedConcurrency?: number;
  logRetentionDays: number;
  alarmTopicArn: pulumi.Input<string>;
  /** The ETL task's family when the team's pipeline runs the ETL (infra/etl-task.ts): that task, not this worker, runs `process_game`. */
  etlTask?: string;
}

export class WorkerFunction extends pulumi.ComponentResource {
  readonly fn: ServiceFunction;
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;

  constructor(name: string, args: WorkerFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super('benchsight:infra:WorkerFunction', name, {}, opts);
    const secrets = [args.databaseSecret, args.botTokenSecret];
    this.fn = new ServiceFunction(
      name,
      {
        functionName: `${args.namePrefix}-worker`,
        bundle: 'worker',
        description: 'runs queued ETL, load and delete jobs',
        memoryMb: 2048,
        timeoutSeconds: 900,
        ephemeralStorageMb: 2048,
        nodeOptions: ENGINE_NODE_OPTIONS,
        environment: {
          DATABASE_SECRET_ARN: args.databaseSecret.arn,
          SLACK_BOT_TOKEN_SECRET_ARN: args.botTokenSecret.arn,
          SLACK_NOTIFY_CHANNEL: args.notifyChannel,
          DROP_BUCKET: args.bucketName,
          ...(args.etlTask ? { BENCHSIGHT_ETL_TASK: args.etlTask } : {}),
          SECRETS_REVISION: secretsRevision(...secrets.map((s) => s.versionId)),
          ...RDS_CA_ENV,
        },
        logRetentionDays: args.logRetentionDays,
        reservedConcurrency: args.reservedConcurrency,
        policy: (logGroupArn) =>
          pulumi
            .all([logGroupArn, args.bucketArn, pulumi.all(secrets.map((s) => s.arn))])
            .apply(([lg, bucketArn, secretArns]) => workerPolicy({ logGroupArn: lg, bucketArn, secretArns })),
      },
      { parent: this },
    );
    const fn = this.fn.function;
    this.functionName = fn.name;
    this.functionArn = fn.arn;

    // A failed hand-off is not retried: the job stays queued and the next scheduled run takes it.
    new aws.lambda.FunctionEventInvokeConfig(`${name}-async`, { functionName: fn.name, maximumRetryAttempts: 0 }, { parent: this });

    const rule = new aws.cloudwatch.EventRule(
      `${name}-schedule`,
      { name: `${args.namePrefix}-worker-schedule`, description: `${args.namePrefix}: run queued jobs`, scheduleExpression: args.schedule },
      { parent: this },
    );
    const allowSchedule = new aws.lambda.Permission(
      `${name}-schedule-invoke`,
      { action: 'lambda:InvokeFunction', function: fn.name, principal: 'events.amazonaws.com', sourceArn: rule.arn },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(`${name}-schedule-target`, { rule: rule.name, arn: fn.arn }, { parent: this, dependsOn: [allowSchedule] });

    functionErrorAlarm(
      `${name}-errors`,
      {
        alarmName: `${args.namePrefix}-worker-errors`,
        functionName: fn.name,
        topicArn: args.alarmTopicArn,
        description: `${args.namePrefix}: the worker failed`,
      },
      { parent: this },
    );
    this.registerOutputs({ functionName: this.functionName });
  }
}
