/** A running bot on 127.0.0.1 with its response_url capture and mock Slack API, for one test file. */
import { folderSource, type Source } from '../../../loader/engine';
import type { Database } from '../../../loader/db/database';
import type { BotConfig } from '../../../bot/config';
import { startBot, type RunningBot, type StartBotOptions } from '../../../bot/server';
import { MockSlackApi, ResponseCapture, leagueFolder, testConfig } from './slack';

export interface Harness {
  bot: RunningBot;
  capture: ResponseCapture;
  api: MockSlackApi;
  config: BotConfig;
  logs: string[];
  stop(): Promise<void>;
}

export async function startHarness(
  db: Database,
  opts: { config?: Partial<BotConfig>; source?: (want?: { gameId?: number }) => Promise<Source>; bot?: Partial<StartBotOptions> } = {},
): Promise<Harness> {
  const capture = await new ResponseCapture().start();
  const api = await new MockSlackApi().start();
  const config = testConfig({ slackApiUrl: api.url, ...opts.config });
  const folder = leagueFolder();
  const logs: string[] = [];
  const bot = await startBot({
    config,
    db,
    port: 0,
    source: opts.source ?? (async () => folderSource(folder)),
    log: (l) => logs.push(l),
    ...opts.bot,
  });
  return {
    bot,
    capture,
    api,
    config,
    logs,
    async stop() {
      await bot.stop();
      await capture.stop();
      await api.stop();
    },
  };
}
