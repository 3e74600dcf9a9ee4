/** `benchsight bot`: settings from the environment, the endpoint on 127.0.0.1, a clean stop. */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBot } from '../../loader/entry/bot-cli';
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
    const running = runBot(['--from', leagueFolder(), 'bot', '--port', '0'], o.io, env(), { signal: stop.signal, onListening: (b) => (bot = b) });
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

  it('refuses bad settings and flags with a message naming them', async () => {
    const o = io();
    expect(await runBot(['bot', '--port', 'eighty'], o.io, env())).toBe(2);
    expect(o.err()).toContain('--port must be a port number');
    const u = io();
    expect(await runBot(['bot', 'now'], u.io, env())).toBe(2);
    expect(u.err()).toContain('unknown option "now"');
    const p = io();
    expect(await runBot([], p.io, { ...env(), SLACK_TEAM_ID: undefined })).toBe(2);
    expect(p.err()).toContain('SLACK_TEAM_ID is not set');
    const h = io();
    expect(await runBot(['--help'], h.io, {})).toBe(0);
    expect(h.out()).toContain('usage: benchsight bot [--port <p>]');
  });
});
