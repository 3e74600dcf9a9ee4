/** The bot's settings, roles and signed confirmations: the pieces that decide before anything runs. */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommand, type Command } from '../../loader/commands/grammar';
import { botConfigFromEnv, BotConfigError } from '../../bot/config';
import { newConfirmation, signConfirmation, verifyConfirmation } from '../../bot/confirmation';
import { mayRun, roleOf } from '../../bot/roles';

const base = {
  SLACK_SIGNING_SECRET: '8f14e45fceea167a5a36dedd4bea2543',
  SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
  SLACK_TEAM_ID: 'T0TEAM',
  BENCHSIGHT_ROLES: '{"admins":["U1"],"operators":["U2"],"viewers":["*"]}',
};

function problems(env: Record<string, string | undefined>): string {
  try {
    botConfigFromEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(BotConfigError);
    return (err as Error).message;
  }
  throw new Error('no error');
}

describe('botConfigFromEnv', () => {
  it('parses a full configuration', () => {
    const c = botConfigFromEnv({
      ...base,
      SLACK_API_URL: 'http://127.0.0.1:4000/api',
      SLACK_CHANNELS: 'C1, C2',
      SLACK_NOTIFY_CHANNEL: 'C3',
      BENCHSIGHT_CONFIRM_MINUTES: '2',
    });
    expect(c).toMatchObject({
      teamId: 'T0TEAM',
      slackApiUrl: 'http://127.0.0.1:4000/api/',
      channels: ['C1', 'C2'],
      notifyChannel: 'C3',
      confirmTtlMs: 120_000,
      roles: { admins: ['U1'], operators: ['U2'], viewers: ['*'] },
    });
    expect(botConfigFromEnv(base)).toMatchObject({ channels: null, confirmTtlMs: 300_000, notifyChannel: undefined });
  });

  it('names every missing or wrong setting at once', () => {
    const msg = problems({ SLACK_BOT_TOKEN: 'xoxp-user-token', SLACK_TEAM_ID: 'myteam', SLACK_CHANNELS: '#data' });
    expect(msg).toContain('SLACK_SIGNING_SECRET is not set');
    expect(msg).toContain('SLACK_BOT_TOKEN must be a bot token (xoxb-…)');
    expect(msg).toContain('SLACK_TEAM_ID must be a Slack team id (T…)');
    expect(msg).toContain('SLACK_CHANNELS');
    expect(msg).toContain('BENCHSIGHT_ROLES is not set');
  });

  it('explains bad roles', () => {
    expect(problems({ ...base, BENCHSIGHT_ROLES: '{admins:[U1]}' })).toContain('BENCHSIGHT_ROLES is not valid JSON (expected e.g.');
    expect(problems({ ...base, BENCHSIGHT_ROLES: '{"admins":["alice"]}' })).toContain('BENCHSIGHT_ROLES admins.0 must list Slack user ids');
    expect(problems({ ...base, BENCHSIGHT_ROLES: '{"owners":["U1"]}' })).toMatch(/BENCHSIGHT_ROLES .*owners/);
    expect(problems({ ...base, BENCHSIGHT_ROLES: '{}' })).toContain('gives nobody a role');
    expect(problems({ ...base, BENCHSIGHT_CONFIRM_MINUTES: '0' })).toContain('BENCHSIGHT_CONFIRM_MINUTES must be more than 0');
  });

  it('reads roles from a file, or SLACK_ROLES as the stack sets it', () => {
    const file = path.join(tmpdir(), `roles-${process.pid}.json`);
    writeFileSync(file, '{"operators":["U9"]}');
    const { BENCHSIGHT_ROLES: _, ...noRoles } = base;
    expect(botConfigFromEnv({ ...noRoles, BENCHSIGHT_ROLES_FILE: file }).roles).toEqual({ admins: [], operators: ['U9'], viewers: [] });
    expect(problems({ ...noRoles, BENCHSIGHT_ROLES_FILE: '/nowhere/roles.json' })).toContain('BENCHSIGHT_ROLES_FILE cannot be read');
    expect(botConfigFromEnv({ ...noRoles, SLACK_ROLES: '{"viewers":["U8"]}' }).roles.viewers).toEqual(['U8']);
  });
});

describe('roles', () => {
  const roles = { admins: ['UA'], operators: ['UO'], viewers: ['UV'] };
  const cmd = (t: string): Command => {
    const p = parseCommand(t);
    if (!p.ok) throw new Error(p.error);
    return p.command;
  };

  it('admins can do everything operators can, operators everything viewers can', () => {
    for (const [text, allowed] of [
      ['history', ['UA', 'UO', 'UV']],
      ['counts', ['UA', 'UO', 'UV']],
      ['etl status', ['UA', 'UO', 'UV']],
      ['load game 1 upsert', ['UA', 'UO']],
      ['etl run', ['UA', 'UO']],
      ['etl queue 5', ['UA', 'UO']],
      // Loads that delete rows are the admins', like delete game and full-refresh.
      ['load game 1 replace', ['UA']],
      ['load table dim_team merge', ['UA']],
      ['load game 1', ['UA']],
      ['delete game 1', ['UA']],
      ['full-refresh', ['UA']],
      ['load all replace', ['UA']],
    ] as const) {
      for (const u of ['UA', 'UO', 'UV', 'UX']) expect(mayRun(roles, u, cmd(text)).ok, `${u} ${text}`).toBe((allowed as readonly string[]).includes(u));
    }
  });

  it('"*" gives a role to everyone; the highest listed role wins', () => {
    expect(roleOf({ admins: [], operators: ['*'], viewers: [] }, 'UANY')).toBe('operator');
    expect(roleOf({ admins: ['U1'], operators: [], viewers: ['*'] }, 'U1')).toBe('admin');
    expect(roleOf(roles, 'UX')).toBeNull();
  });
});

describe('signed confirmations', () => {
  const secret = '8f14e45fceea167a5a36dedd4bea2543';
  const c = newConfirmation({ text: 'delete game 18969', userId: 'U1', teamId: 'T1', now: 1_700_000_000_000, ttlMs: 300_000 });

  it('round-trips, and fits in a button value', () => {
    const value = signConfirmation(c, secret);
    expect(value.length).toBeLessThan(2000);
    expect(verifyConfirmation(value, secret)).toEqual(c);
    expect(c.expiresAt - c.issuedAt).toBe(300_000);
    expect(newConfirmation({ text: 'x', userId: 'U1', teamId: 'T1', now: 0, ttlMs: 1 }).nonce).not.toBe(c.nonce);
  });

  it('refuses another secret, an altered claim, a truncated value', () => {
    const value = signConfirmation(c, secret);
    expect(verifyConfirmation(value, 'another-secret-of-the-same-size!')).toBeNull();
    const [v, claims, mac] = value.split('.') as [string, string, string];
    const altered = Buffer.from(Buffer.from(claims, 'base64url').toString().replace('"U1"', '"U2"')).toString('base64url');
    expect(verifyConfirmation([v, altered, mac].join('.'), secret)).toBeNull();
    expect(verifyConfirmation(`${v}.${claims}`, secret)).toBeNull();
    expect(verifyConfirmation('', secret)).toBeNull();
  });
});
