/**
 * One roles setting for Slack and the Portal (bot/roles.ts): BENCHSIGHT_ROLES lists each
 * person by the identities they use — a Slack user id, an e-mail address (or Supabase user
 * id) — and both entry points, configured from the same environment, give them the same
 * role: seen over real HTTP, from what each entry point lets them do. The older names
 * (SLACK_ROLES for the bot, PORTAL_ROLES for the Portal) still work.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botConfigFromEnv } from '../../bot/config';
import { commandExtensions } from '../../loader/entry/context';
import { localUser, startLocalPortal } from '../../loader/entry/portal-local';
import { createPortalApp } from '../../portal/server/app';
import { portalConfigFromEnv } from '../../portal/server/config';
import { localJobRunner } from '../../portal/server/jobs';
import { listen, type RunningPortal } from '../../portal/server/node';
import { startHarness as startBotHarness, type Harness as BotHarness } from '../bot/support/harness';
import { buttons, readable, SECRET as SLACK_SECRET, slash, TEAM } from '../bot/support/slack';
import { freshDatabase, type TestDatabase } from '../support/database';
import { signIn } from './support/harness';

const JWT_SECRET = 'a-test-secret-of-the-supabase-project-0123456789';
const SUPABASE = 'https://project-ref.supabase.co';
const ROLES = {
  admins: ['U0ADA', 'ada@league.example'],
  operators: ['U0OTTO', 'otto@league.example'],
  viewers: ['*'],
};
/** The environment both entry points are configured from: one roles setting. */
const ENV = {
  BENCHSIGHT_ROLES: JSON.stringify(ROLES),
  SLACK_SIGNING_SECRET: SLACK_SECRET,
  SLACK_BOT_TOKEN: 'xoxb-test-token',
  SLACK_TEAM_ID: TEAM,
  PORTAL_AUTH: 'supabase',
  SUPABASE_URL: SUPABASE,
  SUPABASE_JWT_SECRET: JWT_SECRET,
};
/** The same three people in Slack and in the Portal. */
const PEOPLE = [
  { name: 'Ada', slack: 'U0ADA', sub: '11111111-2222-4333-8444-555555555555', email: 'ada@league.example', role: 'admin' },
  { name: 'Otto', slack: 'U0OTTO', sub: '22222222-2222-4333-8444-555555555555', email: 'Otto@League.example', role: 'operator' },
  { name: 'Vera', slack: 'U0VERA', sub: '33333333-2222-4333-8444-555555555555', email: 'vera@league.example', role: 'viewer' },
] as const;

let t: TestDatabase;
let bot: BotHarness;
let portal: RunningPortal;

const token = (p: (typeof PEOPLE)[number]) =>
  new SignJWT({ email: p.email, role: 'authenticated' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(p.sub)
    .setIssuer(`${SUPABASE}/auth/v1`)
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(JWT_SECRET));

beforeAll(async () => {
  t = await freshDatabase({ migrated: true });
  const { slackApiUrl: _, ...fromEnv } = botConfigFromEnv(ENV);
  bot = await startBotHarness(t.db, { config: fromEnv });
  const config = portalConfigFromEnv(ENV);
  portal = await listen(
    createPortalApp({ config, db: t.db, jobs: localJobRunner({ db: t.db }), extensions: commandExtensions(t.db), liveEvents: false, log: () => undefined }),
  );
});
afterAll(async () => {
  await portal?.stop();
  await bot?.stop();
  await t?.drop();
});

/** The role Slack acts on: an admin is asked to confirm `delete game`; anyone else is told their role. */
async function slackRole(userId: string): Promise<string> {
  const a = await slash(bot.bot.url, { text: 'delete game 1001', userId });
  expect(a.status).toBe(200);
  if (buttons(a.json).some((b) => b.action_id === 'benchsight_confirm')) return 'admin';
  const m = /needs the admin role and you \(\w+\) are an? (\w+)/.exec(readable(a.json));
  if (!m) throw new Error(`unexpected answer: ${readable(a.json)}`);
  return m[1]!;
}

/** The role the Portal acts on: what the session says, and what `DELETE /api/data/game` does (428 asks an admin to confirm). */
async function portalRole(p: (typeof PEOPLE)[number]): Promise<string> {
  const headers = { authorization: `Bearer ${await token(p)}` };
  const session = (await (await fetch(`${portal.url}/api/session`, { headers })).json()) as { user: { role: string } };
  const del = await fetch(`${portal.url}/api/data/game/1001`, { method: 'DELETE', headers });
  const body = (await del.json()) as { role?: string };
  if (session.user.role === 'admin') expect(del.status).toBe(428);
  else expect([del.status, body.role]).toEqual([403, session.user.role]);
  return session.user.role;
}

describe('one roles setting, the same role in Slack and the Portal', () => {
  it('gives each person, known by Slack id in Slack and by e-mail in the Portal, the same role in both', async () => {
    for (const p of PEOPLE) {
      expect({ who: p.name, slack: await slackRole(p.slack), portal: await portalRole(p) }).toEqual({ who: p.name, slack: p.role, portal: p.role });
    }
  });

  it('is read the same way by both: BENCHSIGHT_ROLES, or the file BENCHSIGHT_ROLES_FILE names', () => {
    expect(botConfigFromEnv(ENV).roles).toEqual(ROLES);
    expect(portalConfigFromEnv(ENV).roles).toEqual(ROLES);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'bs-roles-')), 'roles.json');
    writeFileSync(file, JSON.stringify(ROLES));
    const { BENCHSIGHT_ROLES: _, ...noInline } = ENV;
    expect(botConfigFromEnv({ ...noInline, BENCHSIGHT_ROLES_FILE: file }).roles).toEqual(ROLES);
    expect(portalConfigFromEnv({ ...noInline, BENCHSIGHT_ROLES_FILE: file }).roles).toEqual(ROLES);
  });

  it('still reads the older names, each by its own entry point: SLACK_ROLES (bot), PORTAL_ROLES (Portal)', () => {
    const { BENCHSIGHT_ROLES: _, ...noInline } = ENV;
    expect(botConfigFromEnv({ ...noInline, SLACK_ROLES: '{"viewers":["U0VERA"]}' }).roles.viewers).toEqual(['U0VERA']);
    expect(portalConfigFromEnv({ ...noInline, PORTAL_ROLES: '{"operators":["otto@league.example"]}' }).roles.operators).toEqual(['otto@league.example']);
    // BENCHSIGHT_ROLES comes first wherever both are set.
    expect(portalConfigFromEnv({ ...ENV, PORTAL_ROLES: '{"viewers":["*"]}' }).roles).toEqual(ROLES);
  });

  it('says which setting is wrong, and the same for both', () => {
    const bad = { ...ENV, BENCHSIGHT_ROLES: '{"admins":["Ada Lovelace"]}' };
    const message = 'BENCHSIGHT_ROLES admins.0 must list Slack user ids (U…/W…), e-mail addresses, Supabase user ids (UUIDs) or "*"';
    expect(() => botConfigFromEnv(bad)).toThrow(message);
    expect(() => portalConfigFromEnv(bad)).toThrow(message);
    const { BENCHSIGHT_ROLES: _, ...none } = ENV;
    expect(() => portalConfigFromEnv(none)).toThrow('BENCHSIGHT_ROLES is not set');
  });

  it('on `npm start`, the Portal takes the same setting, and whoever started it stays an admin', async () => {
    const local = await startLocalPortal({ db: t.db, env: { BENCHSIGHT_ROLES: JSON.stringify(ROLES) }, ui: false });
    try {
      expect((await signIn(local, localUser())).user.role).toBe('admin');
      expect((await signIn(local, 'otto@league.example')).user.role).toBe('operator');
      expect((await signIn(local, 'someone-else')).user.role).toBe('viewer');
    } finally {
      await local.stop();
    }
  });
});
