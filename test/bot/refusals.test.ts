/**
 * What the bot refuses: requests Slack did not sign (or signed too long ago), other
 * workspaces and channels, users without the role, and arguments that try to be SQL or
 * look like letters they are not. Each refusal changes nothing and is recorded.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { load, folderSource } from '../../loader/engine';
import { freshDatabase, type TestDatabase } from '../support/database';
import { startHarness, type Harness } from './support/harness';
import {
  ADMIN,
  CHANNEL,
  OPERATOR,
  STRANGER,
  TEAM,
  VIEWER,
  click,
  commandRows,
  eventually,
  isFinal,
  leagueFolder,
  post,
  readable,
  signedHeaders,
  slash,
  slashBody,
  warehouseCounts,
} from './support/slack';

let t: TestDatabase;
let h: Harness;
let before: Record<string, number>;

async function loadRequests(): Promise<number> {
  const r = await t.db.query<{ n: string }>("SELECT count(*) AS n FROM load_history WHERE kind = 'request'");
  return Number(r.rows[0]!.n);
}
let requestsBefore = 0;

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  const dims = await load(t.db, { scope: { kind: 'category', category: 'dims' }, source: folderSource(leagueFolder()), initiatedBy: 'test' });
  expect(dims.status).toBe('succeeded');
  h = await startHarness(t.db);
});
afterAll(async () => {
  await h?.stop();
  await t?.drop();
});

beforeEach(async () => {
  before = await warehouseCounts(t.db);
  requestsBefore = await loadRequests();
});

async function nothingChanged() {
  await new Promise((r) => setTimeout(r, 100)); // a job, had one been queued, would have started
  expect(await warehouseCounts(t.db)).toEqual(before);
  expect(await loadRequests()).toBe(requestsBefore);
}

/** The refusal in the ack, and its record (written right after the ack). */
async function refused(text: string, userId: string, opts: { teamId?: string; channelId?: string } = {}) {
  const a = await slash(h.bot.url, { text, userId, ...opts });
  expect(a.status).toBe(200);
  expect(a.json.response_type).toBe('ephemeral');
  expect(a.json.blocks[0].text.text).toMatch(/^:no_entry: /);
  const row = await eventually(async () => (await commandRows(t.db, 'scope = $1 AND initiated_by = $2', [text, userId])).at(-1));
  expect(row.status).toBe('refused');
  return { message: a.json.text as string, row };
}

describe('requests Slack did not sign', () => {
  it('a forged signature gets 401 and is recorded without trusting its user id', async () => {
    const body = slashBody({ text: 'load all upsert', userId: ADMIN });
    const a = await post(h.bot.url, body, signedHeaders(body, { secret: 'not-the-signing-secret' }));
    expect(a.status).toBe(401);
    const row = await eventually(async () => (await commandRows(t.db, "initiated_by = 'unverified' AND error_message LIKE '%does not match%'"))[0]);
    expect(row).toMatchObject({ status: 'refused', operation: 'unverified' });
    await nothingChanged();
  });

  it('a timestamp older than five minutes gets 401, even with a right signature', async () => {
    const body = slashBody({ text: 'load all upsert', userId: ADMIN });
    const a = await post(h.bot.url, body, signedHeaders(body, { ts: Math.floor(Date.now() / 1000) - 6 * 60 }));
    expect(a.status).toBe(401);
    await eventually(async () => (await commandRows(t.db, "initiated_by = 'unverified' AND error_message LIKE '%stale timestamp%'"))[0]);
    await nothingChanged();
  });

  it('a replayed click with a bad signature gets 401 too', async () => {
    const body = new URLSearchParams({ payload: '{"type":"block_actions"}' }).toString();
    const headers = { ...signedHeaders(body), 'x-slack-signature': `v0=${'0'.repeat(64)}` };
    expect((await post(h.bot.url, body, headers)).status).toBe(401);
    await nothingChanged();
  });

  it('anything but POST /slack/events is not found', async () => {
    const res = await fetch(h.bot.url.replace('/slack/events', '/admin'), { method: 'POST', body: 'x' });
    expect(res.status).toBe(404);
    expect((await fetch(h.bot.url)).status).toBe(404);
  });
});

describe('replays and clocks', () => {
  const inMinutes = (m: number) => Math.floor(Date.now() / 1000) + m * 60;

  it('a request signed more than five minutes in the future gets 401, is recorded, and runs nothing', async () => {
    const text = 'load table dim_team upsert';
    const body = slashBody({ text, userId: OPERATOR });
    const a = await post(h.bot.url, body, signedHeaders(body, { ts: inMinutes(6) }));
    expect(a.status).toBe(401);
    const row = await eventually(async () => (await commandRows(t.db, "initiated_by = 'unverified' AND error_message LIKE '%in the future%'"))[0]);
    expect(row).toMatchObject({ status: 'refused', operation: 'unverified' });
    await nothingChanged();
    expect(await commandRows(t.db, 'scope = $1 AND initiated_by = $2', [text, OPERATOR])).toEqual([]);
  });

  it('a clock a minute ahead is still accepted', async () => {
    const body = slashBody({ text: 'counts', userId: VIEWER });
    const a = await post(h.bot.url, body, signedHeaders(body, { ts: inMinutes(1) }));
    expect(a.status).toBe(200);
    expect(readable(a.json)).toContain('dim_team');
  });

  it('the same signed request sent twice, 2 s apart, runs once; the replay is refused and recorded', async () => {
    const url = h.capture.url();
    const text = 'load table dim_team upsert';
    const body = slashBody({ text, userId: OPERATOR, responseUrl: url });
    const headers = signedHeaders(body);
    const first = await post(h.bot.url, body, headers);
    expect(first.status).toBe(200);
    expect(first.json.text).toMatch(/^queued load of table dim_team \(upsert\), job \d+$/);
    await h.capture.waitFor(url, isFinal);
    await new Promise((r) => setTimeout(r, 2000));
    const requests = await loadRequests();

    const second = await post(h.bot.url, body, headers);
    expect(second.status).toBe(409);
    expect(second.text).toMatch(/already received/);
    await new Promise((r) => setTimeout(r, 300));
    expect(await loadRequests()).toBe(requests);
    expect(await commandRows(t.db, 'scope = $1 AND initiated_by = $2', [text, OPERATOR])).toHaveLength(1);
    const row = await eventually(async () => (await commandRows(t.db, "operation = 'replay'"))[0]);
    expect(row).toMatchObject({ status: 'refused', scope: text, error_message: expect.stringContaining('replay') });
    expect(row.warnings).toMatchObject({ slack: { user: OPERATOR, team: TEAM } });
  });

  it('a replay sent to another bot process (another Lambda container) is refused too: the cache is in the database', async () => {
    const other = await startHarness(t.db);
    try {
      const body = slashBody({ text: 'counts', userId: VIEWER });
      const headers = signedHeaders(body);
      expect((await post(h.bot.url, body, headers)).status).toBe(200);
      expect((await post(other.bot.url, body, headers)).status).toBe(409);
    } finally {
      await other.stop();
    }
  });

  it('remembers a signature until its timestamp is too old to pass anyway, and clears what expired', async () => {
    await t.db.query("INSERT INTO slack_seen_signatures (signature, expires_at) VALUES ('v0=expired', now() - interval '1 second')");
    const body = slashBody({ text: 'counts', userId: VIEWER });
    const ts = inMinutes(0);
    const headers = signedHeaders(body, { ts });
    expect((await post(h.bot.url, body, headers)).status).toBe(200);
    const seen = await t.db.query<{ signature: string; expires: number }>(
      'SELECT signature, extract(epoch FROM expires_at)::bigint AS expires FROM slack_seen_signatures ORDER BY received_at',
    );
    expect(seen.rows.map((r) => r.signature)).not.toContain('v0=expired');
    const mine = seen.rows.find((r) => r.signature === headers['x-slack-signature']);
    expect(Number(mine!.expires)).toBe(ts + 5 * 60 + 60);
  });
});

describe('where a request comes from', () => {
  it('another workspace is refused', async () => {
    const { message, row } = await refused('load all upsert', ADMIN, { teamId: 'T0OTHER' });
    expect(message).toContain('serves one workspace only');
    expect(row.error_message).toContain('T0OTHER');
    await nothingChanged();
  });

  it('a click from another workspace is refused', async () => {
    const url = h.capture.url();
    await click(h.bot.url, { actionId: 'benchsight_confirm', value: 'v1.x.y', teamId: 'T0OTHER', responseUrl: url });
    expect((await h.capture.waitFor(url, () => true)).body.text).toContain('serves one workspace only');
    await nothingChanged();
  });

  it('a channel outside the allowlist is refused', async () => {
    const narrow = await startHarness(t.db, { config: { channels: [CHANNEL] } });
    try {
      const a = await slash(narrow.bot.url, { text: 'counts', userId: VIEWER, channelId: 'C0ELSEWHERE' });
      expect(a.json.text).toBe(`BenchSight answers in <#${CHANNEL}> only: ask there`);
      const ok = await slash(narrow.bot.url, { text: 'counts', userId: VIEWER, channelId: CHANNEL });
      expect(readable(ok.json)).toContain('dim_team');
    } finally {
      await narrow.stop();
    }
  });
});

describe('who asks', () => {
  it('a user with no role is refused, whatever the command', async () => {
    for (const text of ['help', 'load all upsert']) {
      const { message } = await refused(text, STRANGER);
      expect(message).toBe(`you (${STRANGER}) have no BenchSight role: ask an admin to add your Slack user id to the bot's roles`);
    }
    await nothingChanged();
  });

  it('a viewer running a load is refused', async () => {
    const { message, row } = await refused('load game 1001 upsert', VIEWER);
    expect(message).toBe(`load of game 1001 (upsert): this needs the operator role and you (${VIEWER}) are a viewer: ask an admin`);
    expect(row).toMatchObject({ operation: 'load', error_message: message });
    await nothingChanged();
  });

  it('an operator running delete game, or a load that replaces, is refused (no confirmation offered)', async () => {
    for (const text of ['delete game 1001', 'load game 1001 replace', 'load category all_facts replace']) {
      const { message } = await refused(text, OPERATOR);
      expect(message).toContain('this needs the admin role and you (U0OPER) are an operator');
    }
    await nothingChanged();
  });

  it('an operator may run what viewers may', async () => {
    const a = await slash(h.bot.url, { text: 'counts', userId: OPERATOR });
    expect(readable(a.json)).toMatch(/dim_team\s+2/);
  });
});

describe('arguments that are not the command language', () => {
  const cases: [string, RegExp][] = [
    ['load table fact_events; drop table dim_player', /";" in "fact_events;" is not part of the command language/],
    ['delete game 1 or 1=1', /"=" in "1=1" is not part of the command language/],
    ['load game 1 or 1', /unexpected "or"/],
    ["history dim_player' --", /"'" in "dim_player'" is not part of the command language/],
    ['l\u043ead game 1001', /contains "\u043e" \(U\+043E\), which only looks like a plain letter or digit: type the command in plain ASCII/],
    ['load game \uff11\uff10\uff10\uff11', /contains "\uff11" \(U\+FF11\), which only looks like a plain letter or digit/],
    ['load table fact_\u0435vents', /U\+0435/],
  ];
  for (const [text, why] of cases) {
    it(`refuses ${JSON.stringify(text)} with a helpful message`, async () => {
      const { message, row } = await refused(text, ADMIN);
      expect(message).toMatch(why);
      expect(message).toContain('/benchsight help');
      expect(row.scope).toBe(text);
      await nothingChanged();
      const still = await t.db.query<{ ok: boolean }>("SELECT to_regclass('public.dim_player') IS NOT NULL AS ok");
      expect(still.rows[0]!.ok).toBe(true);
    });
  }
});
