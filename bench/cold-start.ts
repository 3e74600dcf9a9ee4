/**
 * `npm run bench cold-start [-- --rounds 5]`: how long a Lambda's cold start takes, before
 * its code does anything. Builds the four bundles as `npm run build` does (into a scratch
 * folder), then, each in fresh processes (as Lambda starts one):
 *   require   — `require()` of each bundle: what every cold start pays first;
 *   bot cold  — the bot's first slash command in a fresh process, as Slack's first request
 *               after a deploy or an idle spell meets it: require, the three secrets read
 *               from a Secrets Manager stand-in on 127.0.0.1, the database opened, the
 *               command acked (`help`, answered from memory, and `history`, a database read);
 *   bot warm  — the next command in the same process.
 * Slack needs the ack within 3 s. Needs DATABASE_URL (a scratch database is migrated).
 * `--compare <dir>` also measures the bundles in <dir> (e.g. another checkout's dist/), in
 * the same turns.
 */
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildLambdas } from '../infra/build';
import { LAMBDA_NAMES } from '../infra/bundles';
import { migrate } from '../loader/db/migrate';
import { startFakeSecretsManager } from '../test/infra/support/fake-secrets-manager';
import { median, report, scratchDatabase } from './support';

const run = promisify(execFile);
const SECRET = 'bench-signing-secret-0123456789ab';
const TEAM = 'T0BENCH';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A signed `/benchsight <text>` as a Function URL event. */
function slashEvent(text: string): unknown {
  const body = new URLSearchParams({
    team_id: TEAM,
    channel_id: 'C0BENCH',
    user_id: 'U0BENCH',
    user_name: 'bench',
    command: '/benchsight',
    text,
    api_app_id: 'A0APP',
    response_url: 'http://127.0.0.1:9/unused',
    trigger_id: `${Date.now()}.${Math.random()}`,
  }).toString();
  const ts = Math.floor(Date.now() / 1000);
  return {
    version: '2.0',
    rawPath: '/',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`,
    },
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
    requestContext: { http: { method: 'POST', path: '/', sourceIp: '127.0.0.1' }, timeEpoch: Date.now() },
  };
}

/**
 * Times require() of a bundle in a fresh process: wall clock and CPU (user + system), in
 * milliseconds. On a shared machine the CPU time is the steadier of the two.
 */
async function requireMs(file: string): Promise<{ wall: number; cpu: number }> {
  const script =
    'const t = process.hrtime.bigint(); const c = process.cpuUsage(); require(process.argv[1]); const u = process.cpuUsage(c);' +
    'process.stdout.write(JSON.stringify({ wall: Number(process.hrtime.bigint() - t) / 1e6, cpu: (u.user + u.system) / 1000 }));';
  const { stdout } = await run(process.execPath, ['-e', script, file], { cwd: tmpdir() });
  return JSON.parse(stdout) as { wall: number; cpu: number };
}

/** The bot's first and second slash commands in a fresh process: { require, first, second } in ms. */
async function botCold(file: string, env: NodeJS.ProcessEnv, first: string, second: string): Promise<{ require: number; first: number; second: number }> {
  const script = `
    const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
    const [file, a, b] = process.argv.slice(1);
    let t = process.hrtime.bigint();
    const { handler } = require(file);
    const out = { require: ms(t) };
    (async () => {
      t = process.hrtime.bigint();
      const r1 = await handler(JSON.parse(a), {});
      out.first = ms(t);
      t = process.hrtime.bigint();
      const r2 = await handler(JSON.parse(b), {});
      out.second = ms(t);
      if (r1.statusCode !== 200 || r2.statusCode !== 200) throw new Error('status ' + r1.statusCode + ' ' + r2.statusCode + ': ' + r1.body);
      process.stdout.write(JSON.stringify(out));
      process.exit(0);
    })().catch((e) => { process.stderr.write(e.stack); process.exit(1); });`;
  const { stdout } = await run(process.execPath, ['-e', script, file, JSON.stringify(slashEvent(first)), JSON.stringify(slashEvent(second))], {
    cwd: tmpdir(),
    env,
  });
  return JSON.parse(stdout) as { require: number; first: number; second: number };
}

/** `--compare <dir>`: bundles built elsewhere (another checkout's dist/), measured in the same turns. */
function compared(_: typeof arg): { name: string; file: string; bytes: number }[] {
  const i = process.argv.indexOf('--compare');
  if (i < 0) return [];
  const dir = path.resolve(process.argv[i + 1]!);
  return LAMBDA_NAMES.filter((n) => existsSync(path.join(dir, n, 'index.js'))).map((n) => {
    const file = path.join(dir, n, 'index.js');
    return { name: `${n} [${path.basename(dir)}]`, file, bytes: statSync(file).size };
  });
}

async function main(): Promise<void> {
  const rounds = arg('rounds', 5);
  const out = mkdtempSync(path.join(tmpdir(), 'bs-cold-'));
  const scratch = await scratchDatabase('bench_cold_start');
  const sm = await startFakeSecretsManager({ 'arn:signing': SECRET, 'arn:token': 'xoxb-bench', 'arn:db': scratch.url });
  try {
    await migrate(scratch.db);
    const built = await buildLambdas(LAMBDA_NAMES, { outDir: out });
    const rows: [string, string][] = [];
    const bundles = [...built.map((b) => ({ name: b.name, file: b.file, bytes: b.bytes })), ...compared(arg)];
    const times = new Map<string, { wall: number; cpu: number }[]>(bundles.map((b) => [b.name, []]));
    // In turns, so that the machine's swings fall on every bundle alike.
    for (let i = 0; i < rounds; i++) for (const b of bundles) times.get(b.name)!.push(await requireMs(b.file));
    for (const b of bundles) {
      const t = times.get(b.name)!;
      const m = (k: 'wall' | 'cpu') => Math.round(median(t.map((x) => x[k])));
      rows.push([`require ${b.name} (${Math.round(b.bytes / 1024)} KiB)`, `${m('wall')} ms wall, ${m('cpu')} ms CPU`]);
    }
    const env = {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
      SLACK_SIGNING_SECRET_ARN: 'arn:signing',
      SLACK_BOT_TOKEN_SECRET_ARN: 'arn:token',
      DATABASE_SECRET_ARN: 'arn:db',
      SLACK_TEAM_ID: TEAM,
      SLACK_ROLES: JSON.stringify({ admins: ['U0BENCH'], operators: [], viewers: ['*'] }),
    };
    const bots = bundles.filter((b) => b.name.startsWith('bot'));
    for (const [first, second] of [
      ['help', 'history'],
      ['history', 'help'],
    ] as const) {
      const samples = new Map<string, { require: number; first: number; second: number }[]>(bots.map((b) => [b.name, []]));
      for (let i = 0; i < rounds; i++) for (const b of bots) samples.get(b.name)!.push(await botCold(b.file, env, first, second));
      for (const b of bots) {
        const s = samples.get(b.name)!;
        const m = (k: 'require' | 'first' | 'second') => Math.round(median(s.map((x) => x[k])));
        rows.push([`${b.name} cold: require + first "${first}"`, `${m('require')} + ${m('first')} = ${m('require') + m('first')} ms`]);
        rows.push([`${b.name} warm: "${second}"`, `${m('second')} ms`]);
      }
    }
    report(`cold start (median of ${rounds} fresh processes, Node ${process.versions.node})`, rows);
  } finally {
    await sm.close();
    await scratch.drop();
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
