/**
 * The S3 loader: every `.csv` or `.json` file created in the drop bucket (the batch
 * marker `_manifest.json` included) invokes it; it loads the file, records the outcome
 * and posts it to Slack. Sized for the largest export (a 317-column table): 15 minutes, memory and
 * scratch space configurable. An event that still fails after Lambda's retries goes to
 * a dead-letter queue; errors and dead letters raise alarms.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { functionErrorAlarm } from './alerts';
import { loaderPolicy } from './policies';
import { secretsRevision, type StoredSecret } from './secrets';
import { ENGINE_NODE_OPTIONS, RDS_CA_ENV, ServiceFunction } from './service-function';

/**
 * The suffixes that invoke the loader. `_manifest.json` ends in `.json`: S3 refuses two
 * rules whose suffixes overlap (".json" and "_manifest.json"), so `.json` covers it.
 */
export const LOADER_SUFFIXES = ['.csv', '.json'] as const;
export const BATCH_MARKER = '_manifest.json';

export interface LoaderFunctionArgs {
  namePrefix: string;
  bucketName: pulumi.Input<string>;
  bucketArn: pulumi.Input<string>;
  bucketId: pulumi.Input<string>;
  databaseSecret: StoredSecret;
  botTokenSecret: StoredSecret;
  notifyChannel: string;
  workerFunctionName: pulumi.Input<string>;
  workerFunctionArn: pulumi.Input<string>;
  memoryMb: number;
  reservedConcurrency?: number;
  logRetentionDays: number;
  alarmTopicArn: pulumi.Input<string>;
}

export class LoaderFunction extends pulumi.ComponentResource {
  readonly fn: ServiceFunction;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly functionName: pulumi.Output<string>;

  constructor(name: string, args: LoaderFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super('benchsight:infra:LoaderFunction', name, {}, opts);

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { namePrefix: `${args.namePrefix}-loader-dlq-`, messageRetentionSeconds: 14 * 24 * 3600, sqsManagedSseEnabled: true },
      { parent: this },
    );
    const dlqArn = this.deadLetterQueue.arn;
    const secrets = [args.databaseSecret, args.botTokenSecret];

    this.fn = new ServiceFunction(
      name,
      {
        functionName: `${args.namePrefix}-loader`,
        bundle: 'loader',
        description: 'loads files dropped in the bucket',
        memoryMb: args.memoryMb,
        timeoutSeconds: 900,
        ephemeralStorageMb: 4096,
        nodeOptions: ENGINE_NODE_OPTIONS,
        environment: {
          DATABASE_SECRET_ARN: args.databaseSecret.arn,
          SLACK_BOT_TOKEN_SECRET_ARN: args.botTokenSecret.arn,
          SLACK_NOTIFY_CHANNEL: args.notifyChannel,
          DROP_BUCKET: args.bucketName,
          WORKER_FUNCTION_NAME: args.workerFunctionName,
          SECRETS_REVISION: secretsRevision(...secrets.map((s) => s.versionId)),
          ...RDS_CA_ENV,
        },
        logRetentionDays: args.logRetentionDays,
        deadLetterQueueArn: dlqArn,
        reservedConcurrency: args.reservedConcurrency,
        policy: (logGroupArn) =>
          pulumi
            .all([logGroupArn, args.bucketArn, dlqArn, pulumi.all(secrets.map((s) => s.arn)), args.workerFunctionArn])
            .apply(([lg, bucketArn, deadLetterQueueArn, secretArns, workerFunctionArn]) =>
              loaderPolicy({ logGroupArn: lg, bucketArn, deadLetterQueueArn, secretArns, workerFunctionArn }),
            ),
      },
      { parent: this },
    );
    const fn = this.fn.function;
    this.functionName = fn.name;

    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-async`,
      { functionName: fn.name, maximumRetryAttempts: 2, maximumEventAgeInSeconds: 6 * 3600 },
      { parent: this },
    );

    const account = aws.getCallerIdentityOutput({}, { parent: this });
    const allowS3 = new aws.lambda.Permission(
      `${name}-s3-invoke`,
      {
        action: 'lambda:InvokeFunction',
        function: fn.name,
        principal: 's3.amazonaws.com',
        sourceArn: args.bucketArn,
        sourceAccount: account.accountId,
      },
      { parent: this },
    );
    new aws.s3.BucketNotification(
      `${name}-notifications`,
      {
        bucket: args.bucketId,
        lambdaFunctions: LOADER_SUFFIXES.map((suffix) => ({
          lambdaFunctionArn: fn.arn,
          events: ['s3:ObjectCreated:*'],
          filterSuffix: suffix,
        })),
      },
      { parent: this, dependsOn: [allowS3] },
    );

    functionErrorAlarm(
      `${name}-errors`,
      {
        alarmName: `${args.namePrefix}-loader-errors`,
        functionName: fn.name,
        topicArn: args.alarmTopicArn,
        description: `${args.namePrefix}: a file failed to load (see the loader's log)`,
      },
      { parent: this },
    );
    new aws.cloudwatch.MetricAlarm(
      `${name}-dead-letters`,
      {
        name: `${args.namePrefix}-loader-dead-letters`,
        alarmDescription: `${args.namePrefix}: drop-bucket events the loader gave up on are waiting in its dead-letter queue`,
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: this.deadLetterQueue.name },
        statistic: 'Maximum',
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        treatMissingData: 'notBreaching',
        alarmActions: [args.alarmTopicArn],
      },
      { parent: this },
    );
    this.registerOutputs({ functionName: this.functionName, deadLetterQueueUrl: this.deadLetterQueue.url });
  }
}
