/**
 * The Bolt app, over whichever receiver runs it (HTTP locally, AwsLambdaReceiver on AWS):
 * the `/benchsight` slash command, the confirm/cancel buttons and a refused drop's evolve button. The listeners only
 * translate Slack's payloads into calls of commands.ts and actions.ts.
 */
import { App, LogLevel, type BlockButtonAction, type ButtonAction, type Receiver } from './bolt';
import { type Click, handleClick, handleEvolveClick, SeenNonces } from './actions';
import { handleSlashCommand } from './commands';
import { botDeps, type BotOptions } from './deps';
import { CANCEL_ACTION, CONFIRM_ACTION } from './messages';
import { EVOLVE_ACTION } from '../loader/s3/notify';

const SLASH_COMMAND = '/benchsight';

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

  for (const [actionId, kind] of [
    [CONFIRM_ACTION, 'confirm'],
    [CANCEL_ACTION, 'cancel'],
  ] as const) {
    app.action<BlockButtonAction>(actionId, async ({ body, action, ack }) => {
      await ack();
      await handleClick({ kind, ...clickOf(body, action) }, deps, seen);
    });
  }

  // A drop the drift policy refused: its message's button (loader/s3/notify.ts).
  app.action<BlockButtonAction>(EVOLVE_ACTION, async ({ body, action, ack }) => {
    await ack();
    await handleEvolveClick(clickOf(body, action), deps);
  });

  app.error(async (err) => {
    deps.log(`slack: a listener failed: ${err.stack ?? err.message}`);
  });
  return app;
}

/** Who clicked a button, where, and its value: Slack's block_actions payload, as actions.ts takes it. */
function clickOf(body: BlockButtonAction, action: ButtonAction): Omit<Click, 'kind'> {
  return {
    teamId: body.team?.id ?? body.user.team_id,
    userId: body.user.id,
    channelId: body.channel?.id ?? (body.container?.channel_id as string | undefined),
    responseUrl: body.response_url,
    value: action.value ?? '',
  };
}
