/** `benchsight bot`: settings from the environment, the endpoint on 127.0.0.1, a clean stop. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { runBot } from '../../loader/entry/bot-cli';
import { main } from '../../loader/entry/cli';
import { Capture } from '../support/capture';
import type { RunningBot } from '../../bot/server';
import { freshDatabase, type TestDatabase } from '../support/database';
import { SECRET, TEAM, VIEWER, leagueFolder, readable, slash } from '../bot/support/slack';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
});
afterAll(async () => t?.drop());

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { io: { stdout, stderr }, out: () => out, err: () => err };
}

const env = () => ({
  SLACK_SIGNING_SECRET: SECRET,
  SLACK_BOT_TOKEN: 'xoxb-local',
  SLACK_TEAM_ID: TEAM,
  BENCHSIGHT_ROLES: JSON.stringify({ viewers: [VIEWER] }),
  DATABASE_URL: t.url,
});

describe('runBot', () => {
  it('serves /slack/events on 127.0.0.1 until stopped', async () => {
    const o = io();
    const stop = new AbortController();
    let bot: RunningBot | undefined;
    const running = runBot({ from: leagueFolder(), port: 0 }, o.io, env(), { signal: stop.signal, onListening: (b) => (bot = b) });
    const b = await new Promise<RunningBot>((resolve) => {
      const poll = setInterval(() => {
        if (!bot) return;
        clearInterval(poll);
        resolve(bot);
      }, 10);
    });
    expect(b.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/slack\/events$/);
    expect(o.out()).toContain(`BenchSight bot listening on ${b.url}`);
    const a = await slash(b.url, { text: 'counts', userId: VIEWER });
    expect(readable(a.json)).toContain('dim_team');
    stop.abort();
    expect(await running).toBe(0);
    await expect(fetch(b.url, { method: 'POST' })).rejects.toThrow();
  });

  it('refuses bad settings with a message naming them', async () => {
    const p = io();
    expect(await runBot({ port: 0 }, p.io, { ...env(), SLACK_TEAM_ID: undefined })).toBe(2);
    expect(p.err()).toContain('SLACK_TEAM_ID is not set');
  });

  it('benchsight bot: bad flags are usage errors; --help names the settings', async () => {
    const run = async (...argv: string[]) => {
      const stdout = new Capture();
      const stderr = new Capture();
      const code = await main(argv, { stdout, stderr, stdin: Object.assign(new PassThrough(), { isTTY: false }) }, env());
      return { code, out: stdout.text, err: stderr.text };
    };
    const port = await run('bot', '--port', 'eighty');
    expect(port.code).toBe(2);
    expect(port.err).toContain('--port is a whole number from 0 to 65535, not "eighty"');
    const extra = await run('bot', 'now');
    expect(extra.code).toBe(2);
    expect(extra.err).toMatch(/too many arguments for 'bot'/);
    const typo = await run('bot', '--prot', '3000');
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/unknown option '--prot'\s+\(Did you mean --port\?\)/);
    const help = await run('bot', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: benchsight bot \[options\]/);
    expect(help.out).toContain('SLACK_SIGNING_SECRET');
  });
});
