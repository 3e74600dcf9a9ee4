/**
 * What the deployed worker runs, from its environment: the ETL (process_game) and
 * queued Slack commands, whose loads read the drop bucket (DROP_BUCKET) and whose
 * answers go to Slack with the bot token (SLACK_BOT_TOKEN_SECRET_ARN).
 */
import { secretFromEnv } from '../aws/secrets';
import { etlCommandExtensions } from '../etl';
import type { Handlers } from '../queue/job';
import { makeS3Client, s3ConfigFromEnv } from '../s3/client';
import { latestExportsSource } from '../s3/source';
import { commandJobHandler, COMMAND_JOB } from '../../bot/worker-jobs';
import { slackClient } from '../../bot/report';
import { defaultHandlers } from './registry';

export async function deployedHandlers(env: NodeJS.ProcessEnv): Promise<Handlers> {
  const base = defaultHandlers();
  const s3c = s3ConfigFromEnv(env);
  const token = env.SLACK_BOT_TOKEN?.trim() || (env.SLACK_BOT_TOKEN_SECRET_ARN ? await secretFromEnv('SLACK_BOT_TOKEN_SECRET_ARN', env) : '');
  return {
    ...base,
    [COMMAND_JOB]: commandJobHandler({
      source: s3c.bucket ? async () => latestExportsSource(makeS3Client(s3c), s3c.bucket!) : undefined,
      client: token ? slackClient(token, { slackApiUrl: env.SLACK_API_URL?.trim() || undefined }) : undefined,
      extensions: (db) => etlCommandExtensions(db, { handlers: base }),
    }),
  };
}
