/**
 * The Pulumi program: one `pulumi up` stands up a complete environment. It reads and
 * validates the stack's configuration, builds the components and exports what a person
 * needs next (the Slack request URL, the bucket to drop files in ...).
 * The functions' code comes from `npm run build` (dist/<name>); see infra/README.md.
 */
import * as pulumi from '@pulumi/pulumi';
import { Alerts } from './alerts';
import { bundleProblems, StaleBundleError } from './bundles';
import { loadStackConfig } from './config';
import { Database } from './database';
import { DropBucket } from './drop-bucket';
import { LoaderFunction } from './loader-function';
import { readMigrationFiles } from './migrations';
import { Secrets } from './secrets';
import { SlackBot } from './slack-bot';
import { WorkerFunction } from './worker-function';

const config = loadStackConfig();
const prefix = config.namePrefix;

// A missing or stale bundle stops the program before anything is created or updated
// (an error diagnostic alone would not fail the update: pulumi/pulumi#6090).
const bundles = bundleProblems();
if (bundles.length) throw new StaleBundleError(`the Lambda bundles are not current:\n  ${bundles.join('\n  ')}`);

const alerts = new Alerts('alerts', { namePrefix: prefix, email: config.alarmEmail });

const database = new Database('database', {
  namePrefix: prefix,
  database: config.database,
  passwordSeed: config.databasePasswordSeed,
  logRetentionDays: config.logRetentionDays,
  migrations: readMigrationFiles(),
});

const secrets = new Secrets('secrets', {
  namePrefix: prefix,
  databaseUrl: database.loaderUrl,
  slackSigningSecret: config.slack.signingSecret,
  slackBotToken: config.slack.botToken,
});

const drop = new DropBucket('drop', {
  namePrefix: prefix,
  processedRetentionDays: config.processedRetentionDays,
  failedRetentionDays: config.failedRetentionDays,
  forceDestroy: config.dropBucketForceDestroy,
});

// The functions start after the database is migrated and its grants are in place.
const afterDatabase = { dependsOn: [database] };

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
    logRetentionDays: config.logRetentionDays,
    alarmTopicArn: alerts.topicArn,
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
    logRetentionDays: config.logRetentionDays,
  },
  afterDatabase,
);

export const region = config.region;
export const bucketName = drop.name;
export const slackRequestUrl = bot.requestUrl;
export const workerFunctionName = worker.functionName;
export const loaderFunctionName = loader.functionName;
export const loaderDeadLetterQueueUrl = loader.deadLetterQueue.url;
export const alarmTopicArn = alerts.topicArn;
export const databaseRoles = database.roles;
export const readerDatabaseUrlSecretArn = database.readerUrlSecretArn;
export const migrationsHash = database.migrationsHash;
export const migrationResult = database.migrationResult;
