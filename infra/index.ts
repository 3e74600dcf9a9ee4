/**
 * The Pulumi program: one `pulumi up` stands up a complete environment. It reads and
 * validates the stack's configuration, builds the components and exports what a person
 * needs next (the Slack request URL and app manifest, the bucket to drop files in ...).
 * The functions' code comes from `npm run build` (dist/<name>): a missing or stale bundle
 * stops the program before anything changes. See infra/README.md.
 */
import * as pulumi from '@pulumi/pulumi';
import { Alerts } from './alerts';
import { bundleProblems, StaleBundleError } from './bundles';
import { loadStackConfig } from './config';
import { Database } from './database';
import { DropBucket } from './drop-bucket';
import { EtlTask } from './etl-task';
import { LoaderFunction } from './loader-function';
import { readMigrationFiles } from './migrations';
import { Portal, portalConfig } from './portal';
import { Secrets } from './secrets';
import { SlackBot } from './slack-bot';
import { renderSlackManifest } from './slack-manifest';
import { WorkerFunction } from './worker-function';

const config = loadStackConfig();
const prefix = config.namePrefix;

// An error diagnostic alone would not fail the update (pulumi/pulumi#6090): throw.
const bundles = bundleProblems();
if (bundles.length) throw new StaleBundleError(`the Lambda bundles are not current:\n  ${bundles.join('\n  ')}`);

const alerts = new Alerts('alerts', { namePrefix: prefix, email: config.alarmEmail });

const database = new Database('database', {
  namePrefix: prefix,
  database: config.database,
  passwordSeed: config.databasePasswordSeed,
  logRetentionDays: config.logRetentionDays,
  migrations: readMigrationFiles(),
  apiAnonRead: config.apiAnonRead,
  keep: config.keep,
});

const secrets = new Secrets('secrets', {
  namePrefix: prefix,
  databaseUrl: database.loaderUrl,
  slackSigningSecret: config.slack.signingSecret,
  slackBotToken: config.slack.botToken,
  keep: config.keep,
});

const drop = new DropBucket('drop', {
  namePrefix: prefix,
  processedRetentionDays: config.processedRetentionDays,
  failedRetentionDays: config.failedRetentionDays,
  forceDestroy: config.dropBucketForceDestroy,
  keep: config.keep,
});

// The functions start after the database is migrated and its grants are in place.
const afterDatabase = { dependsOn: [database] };

// The team's ETL pipeline as a Fargate task of their image, when the stack names it (infra/etl-task.ts).
const etl = config.etl
  ? new EtlTask(
      'etl',
      {
        namePrefix: prefix,
        region: config.region,
        ...config.etl,
        databaseSecret: secrets.databaseUrl,
        logRetentionDays: config.logRetentionDays,
      },
      afterDatabase,
    )
  : undefined;

const worker = new WorkerFunction(
  'worker',
  {
    namePrefix: prefix,
    bucketName: drop.name,
    bucketArn: drop.arn,
    databaseSecret: secrets.databaseUrl,
    botTokenSecret: secrets.slackBotToken,
    notifyChannel: config.slack.notifyChannel,
    schedule: config.workerSchedule,
    reservedConcurrency: config.concurrency.worker,
    logRetentionDays: config.logRetentionDays,
    alarmTopicArn: alerts.topicArn,
    etlTask: etl?.family,
  },
  afterDatabase,
);

const loader = new LoaderFunction(
  'loader',
  {
    namePrefix: prefix,
    bucketName: drop.name,
    bucketArn: drop.arn,
    bucketId: drop.bucket.id,
    databaseSecret: secrets.databaseUrl,
    botTokenSecret: secrets.slackBotToken,
    notifyChannel: config.slack.notifyChannel,
    workerFunctionName: worker.functionName,
    workerFunctionArn: worker.functionArn,
    memoryMb: config.loaderMemoryMb,
    reservedConcurrency: config.concurrency.loader,
    logRetentionDays: config.logRetentionDays,
    alarmTopicArn: alerts.topicArn,
  },
  afterDatabase,
);

const bot = new SlackBot(
  'bot',
  {
    namePrefix: prefix,
    databaseSecret: secrets.databaseUrl,
    signingSecret: secrets.slackSigningSecret,
    botTokenSecret: secrets.slackBotToken,
    teamId: config.slack.teamId,
    roles: config.slack.roles,
    notifyChannel: config.slack.notifyChannel,
    workerFunctionName: worker.functionName,
    workerFunctionArn: worker.functionArn,
    reservedConcurrency: config.concurrency.bot,
    logRetentionDays: config.logRetentionDays,
    etlTask: etl?.family,
  },
  afterDatabase,
);

// The Admin Portal, when the stack names the Supabase project its people sign in with (infra/portal.ts).
const portalSettings = portalConfig(undefined, config.roles);
const portal = portalSettings
  ? new Portal(
      'portal',
      {
        namePrefix: prefix,
        databaseSecret: secrets.databaseUrl,
        bucketName: drop.name,
        bucketArn: drop.arn,
        bucketId: drop.bucket.id,
        workerFunctionName: worker.functionName,
        workerFunctionArn: worker.functionArn,
        logRetentionDays: config.logRetentionDays,
        ...portalSettings,
      },
      afterDatabase,
    )
  : undefined;

export const region = config.region;
export const portalUrl = portal?.url;
export const bucketName = drop.name;
export const slackRequestUrl = bot.requestUrl;
export const slackAppManifest = bot.requestUrl.apply((url) => renderSlackManifest(url, pulumi.getStack()));
export const workerFunctionName = worker.functionName;
export const loaderFunctionName = loader.functionName;
export const loaderDeadLetterQueueUrl = loader.deadLetterQueue.url;
export const alarmTopicArn = alerts.topicArn;
export const etlTaskDefinitionArn = etl?.taskDefinitionArn;
export const etlClusterArn = etl?.clusterArn;
export const databaseRoles = database.roles;
export const readerDatabaseUrlSecretArn = database.readerUrlSecretArn;
export const migrationsHash = database.migrationsHash;
export const migrationResult = database.migrationResult;
