/**
 * The Bolt app, over whichever receiver runs it (HTTP locally, AwsLambdaReceiver on AWS):
 * the `/benchsight` slash command and the confirm/cancel buttons. The listeners only
 * translate Slack's payloads into calls of commands.ts and actions.ts.
 */
import { App, LogLevel, type BlockButtonAction, type Receiver } from './bolt';
import type { Database } from '../loader/db/database';
import type { Extensions } from '../loader/commands/execute';
import { handleClick, SeenNonces } from './actions';
import { CommandLog } from './audit';
import { handleSlashCommand } from './commands';
import type { BotConfig } from './config';
import type { JobDispatcher } from './dispatcher';
import { CANCEL_ACTION, CONFIRM_ACTION } from './messages';

export const SLASH_COMMAND = '/benchsight';

export interface BotDeps {
  config: BotConfig;
  db: Database;
  dispatcher: JobDispatcher;
  /** ETL and data-quality commands, plugged in by their modules (absent: "not available here"). */
  extensions?: Extensions;
  /** A fast command still running after this long answers "working on it" and posts its result later. */
  answerWithinMs: number;
  now: () => number;
  log: (line: string) => void;
  fetch?: typeof fetch;
  /** Where records written after the answer go (batched). */
  commandLog: CommandLog;
}

type Defaulted = 'answerWithinMs' | 'now' | 'log' | 'commandLog';
export type BotOptions = Omit<BotDeps, Defaulted> & Partial<Pick<BotDeps, Defaulted>>;

export function botDeps(o: BotOptions): BotDeps {
  const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as BotOptions;
  return { answerWithinMs: 2000, now: Date.now, log: (l) => console.error(l), commandLog: new CommandLog(o.db), ...given };
}

export function createBotApp(receiver: Receiver, options: BotOptions): App {
  const deps = botDeps(options);
  const app = new App({
    receiver,
    token: deps.config.botToken,
    // Both given, so Bolt does not call auth.test.
    botId: deps.config.botId,
    botUserId: deps.config.botUserId,
    clientOptions: { slackApiUrl: deps.config.slackApiUrl },
    logLevel: LogLevel.WARN,
  });
  const seen = new SeenNonces();

  app.command(SLASH_COMMAND, async ({ command, ack }) => {
    await handleSlashCommand(command, async (message) => ack(message), deps);
  });

  for (const [actionId, kind] of [[CONFIRM_ACTION, 'confirm'], [CANCEL_ACTION, 'cancel']] as const) {
    app.action<BlockButtonAction>(actionId, async ({ body, action, ack }) => {
      await ack();
      await handleClick(
        {
          kind,
          teamId: body.team?.id ?? body.user.team_id,
          userId: body.user.id,
          channelId: body.channel?.id ?? (body.container?.channel_id as string | undefined),
          responseUrl: body.response_url,
          value: action.value ?? '',
        },
        deps,
        seen,
      );
    });
  }

  app.error(async (err) => {
    deps.log(`slack: a listener failed: ${err.stack ?? err.message}`);
  });
  return app;
}
