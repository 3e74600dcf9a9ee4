/**
 * `npm run bench portal [-- --clients 50 --requests 20 --rounds 3 --page-loads 10 --export <dir>]`:
 * how fast the Admin Portal answers.
 *
 * 1. Reads under load: the status board's read endpoints (/api/tables/counts,
 *    /api/load/history?limit=10, /api/health, /api/etl/queue, and the four interleaved)
 *    asked by N concurrent clients (each its own signed-in session and keep-alive
 *    connection, each asking again as soon as it is answered) of the real local Portal
 *    (loader/entry/portal-local.ts, as `npm start` runs it, in a process of its own) over
 *    real HTTP, on a migrated database holding the real export (../shared/data; a
 *    generated one when it is absent). Beside it, in turns, two floors: the very
 *    statements each endpoint's command sends (recorded from the command itself) sent
 *    straight to PostgreSQL with `pg` by N concurrent callers, through a pool of 10
 *    connections as the Portal has (the database work plus waiting for a connection), and
 *    with a connection each (the database work alone). The ratios say what the Portal adds
 *    (HTTP, the session, the grammar, JSON) to what the database costs anyway.
 * 2. Time to first render: the page in headless Chromium (/usr/bin/chromium, driven by
 *    playwright-core, a new profile each time: nothing cached), signed in: navigation
 *    start → first contentful paint, and → the dashboard populated (every status tile
 *    filled, the row counts non-zero, Recent operations listed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { Database, Queryable } from '../loader/db/database';
import { openPostgres } from '../loader/db/postgres';
import { counts, executeCommand } from '../loader/commands/execute';
import { parseCommand } from '../loader/commands/grammar';
import { folderSource, load } from '../loader/engine';
import { commandExtensions, folderSourceOf } from '../loader/entry/context';
import { localUser, startLocalPortal } from '../loader/entry/portal-local';
import { generatedGames, median, scratchDatabase } from './support';

const REAL = path.resolve(__dirname, '../../shared/data/benchsight-2025-12-29/csv');
const CHROMIUM = '/usr/bin/chromium';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** The endpoints measured, with the command each runs (the floor replays that command's statements). */
const ENDPOINTS = [
  { name: 'counts', path: '/api/tables/counts', command: 'counts' },
  { name: 'history', path: '/api/load/history?limit=10', command: 'history limit 10' },
  { name: 'health', path: '/api/health', command: 'health' },
  { name: 'etl queue', path: '/api/etl/queue', command: 'etl status' },
] as const;

// ── The Portal's own process (`--serve`): as `npm start` runs it ──

async function serve(): Promise<void> {
  const url = process.env.BENCH_DATABASE_URL!;
  const dir = process.env.BENCH_EXPORT!;
  const clients = Number(process.env.BENCH_CLIENTS);
  const db = openPostgres({ url });
  const portal = await startLocalPortal({
    db,
    source: folderSourceOf(dir),
    extensions: commandExtensions(db),
    roles: { admins: [localUser()], operators: [], viewers: ['*'] },
  });
  const links = Array.from({ length: clients + 1 }, (_, i) => portal.signInLink(`bench${i}`));
  process.stdout.write(`${JSON.stringify({ url: portal.url, links })}\n`);
  process.on('SIGTERM', () => {
    void portal
      .stop()
      .then(() => db.close())
      .finally(() => process.exit(0));
  });
}

async function startServer(url: string, dir: string, clients: number): Promise<{ child: ChildProcess; url: string; links: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--serve'], {
    env: { ...process.env, BENCH_DATABASE_URL: url, BENCH_EXPORT: dir, BENCH_CLIENTS: String(clients) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the Portal's process exited (${code}) before it listened`)));
  });
  return { child, ...(JSON.parse(line) as { url: string; links: string[] }) };
}

// ── HTTP clients ──

interface Client {
  cookie: string;
  agent: Agent;
}

async function signIn(link: string): Promise<Client> {
  const res = await fetch(link, { redirect: 'manual' });
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  // One connection per client, kept alive, as a browser tab keeps one.
  return { cookie, agent: new Agent({ keepAlive: true, maxSockets: 1 }) };
}

function get(base: string, client: Client, p: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(`${base}${p}`, { agent: client.agent, headers: { cookie: client.cookie, accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${p}: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`));
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { outcome?: { ok?: boolean } };
        if (body.outcome?.ok === false) return reject(new Error(`${p}: ${JSON.stringify(body.outcome).slice(0, 300)}`));
        resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every client asks `requests` times in a row (the next as soon as the last is answered); all at once. */
async function closedLoop<C>(clients: C[], requests: number, ask: (c: C, i: number) => Promise<number>): Promise<number[]> {
  const per = await Promise.all(
    clients.map(async (c, k) => {
      const ms: number[] = [];
      for (let i = 0; i < requests; i++) ms.push(await ask(c, i + k));
      return ms;
    }),
  );
  return per.flat();
}

// ── The floor: the same statements, straight to PostgreSQL ──

type Statement = { sql: string; params?: unknown[] };

/** A Database that notes every statement sent through it (transactions as BEGIN … COMMIT). */
function recording(db: Database, log: Statement[]): Database {
  const wrap = (q: Queryable): Queryable => ({
    query: (sql, params) => {
      log.push({ sql, params });
      return q.query(sql, params);
    },
    copyFrom: () => Promise.reject(new Error('no COPY in a read')),
  });
  return {
    label: db.label,
    ...wrap(db),
    transaction: async (fn) => {
      log.push({ sql: 'BEGIN' });
      const r = await db.transaction((tx) => fn(wrap(tx)));
      log.push({ sql: 'COMMIT' });
      return r;
    },
    close: () => db.close(),
  };
}

/** The statements `text` sends, recorded by running the command itself. */
async function statementsOf(db: Database, dir: string, text: string): Promise<Statement[]> {
  const parsed = parseCommand(text);
  if (!parsed.ok) throw new Error(parsed.error);
  const log: Statement[] = [];
  const rec = recording(db, log);
  const outcome = await executeCommand({ db: rec, initiatedBy: 'bench', extensions: commandExtensions(rec), source: folderSourceOf(dir) }, parsed.command);
  if (!outcome.ok) throw new Error(`${text} failed: ${JSON.stringify(outcome).slice(0, 300)}`);
  return log;
}

async function replay(c: pg.Client | pg.Pool, statements: Statement[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (const s of statements) await c.query(s.sql, s.params);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

// ── The page in Chromium ──

/** Notes (performance.now(), i.e. since navigation start) when the dashboard is first populated. */
const POPULATED_PROBE = `(() => {
  const done = () => {
    const tiles = [...document.querySelectorAll('.board .tile-value')];
    const total = document.querySelector('[data-testid="total-rows"]');
    return tiles.length >= 4 && tiles.every((t) => !t.textContent.includes('…')) &&
      total && /[1-9]/.test(total.textContent) &&
      document.querySelectorAll('table.counts tbody tr').length > 0 &&
      document.querySelectorAll('table.history tbody tr').length > 0;
  };
  const look = () => {
    if (window.__populated === undefined && document.body && done()) window.__populated = performance.now();
  };
  new MutationObserver(look).observe(document, { subtree: true, childList: true, characterData: true });
})();`;

interface PageLoads {
  fcp: number[];
  populated: number[];
  kb: number;
  /** Per request of the page (path without query): when it was sent and answered, since navigation start. */
  requests: Map<string, { start: number[]; end: number[] }>;
}

async function pageLoads(base: string, link: string, runs: number): Promise<PageLoads> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const session = await signIn(link);
  session.agent.destroy();
  const [name, value] = session.cookie.split('=') as [string, string];
  const fcp: number[] = [];
  const populated: number[] = [];
  const requests = new Map<string, { start: number[]; end: number[] }>();
  let kb = 0;
  try {
    for (let r = 0; r < runs + 1; r++) {
      // A new context each time: an empty cache, as on a first visit.
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addCookies([{ name, value, url: base, httpOnly: true, sameSite: 'Strict' }]);
      await context.addInitScript(POPULATED_PROBE);
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await page.waitForFunction(() => (globalThis as { __populated?: number }).__populated !== undefined, undefined, { timeout: 30_000 });
      const t = await page.evaluate(() => {
        const g = globalThis as unknown as {
          __populated: number;
          performance: {
            getEntriesByName(n: string): { startTime: number }[];
            getEntriesByType(t: string): { name: string; startTime: number; responseEnd: number; transferSize?: number }[];
          };
        };
        const paint = g.performance.getEntriesByName('first-contentful-paint')[0];
        const bytes = [...g.performance.getEntriesByType('navigation'), ...g.performance.getEntriesByType('resource')].reduce(
          (n, e) => n + (e.transferSize ?? 0),
          0,
        );
        const requests = g.performance.getEntriesByType('resource').map((e) => ({ path: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd }));
        return { fcp: paint?.startTime ?? Number.NaN, populated: g.__populated, bytes, requests };
      });
      await context.close();
      if (r === 0) continue; // the first launch warms Chromium itself, not the page
      fcp.push(t.fcp);
      populated.push(t.populated);
      kb = t.bytes / 1024;
      for (const q of t.requests) {
        const seen = requests.get(q.path) ?? { start: [], end: [] };
        seen.start.push(q.start);
        seen.end.push(q.end);
        requests.set(q.path, seen);
      }
    }
  } finally {
    await browser.close();
  }
  return { fcp, populated, kb, requests };
}

// ── The run ──

async function main(): Promise<void> {
  const clients = arg('clients', 50);
  const requests = arg('requests', 20);
  const rounds = arg('rounds', 3);
  const loads = arg('page-loads', 10);
  const exportArg = process.argv.indexOf('--export');
  let dir: string;
  let what: string;
  if (exportArg > 0) [dir, what] = [path.resolve(process.argv[exportArg + 1]!), 'the export given'];
  else if (existsSync(REAL)) [dir, what] = [REAL, 'the real export'];
  else {
    process.stdout.write(`[note] the real export is not at ${REAL}: using a generated one\n`);
    [dir, what] = [await generatedGames(4), 'a generated export (4 games)'];
  }

  const scratch = await scratchDatabase('bs_bench_portal');
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  const floorClients: pg.Client[] = [];
  let pool: pg.Pool | undefined;
  const http: Client[] = [];
  try {
    // The warehouse as a person has it: the export loaded (twice: some history), migrated.
    for (let i = 0; i < 2; i++) {
      const r = await load(scratch.db, { scope: { kind: 'all' }, operation: 'replace', source: folderSource(dir), initiatedBy: 'bench' });
      if (r.status !== 'succeeded') throw new Error(`loading ${dir}: ${JSON.stringify(r.error)}`);
    }
    const rows = (await counts(scratch.db)).reduce((n, t) => n + t.rows, 0);
    const floorOf = new Map<string, Statement[]>();
    for (const e of ENDPOINTS) floorOf.set(e.name, await statementsOf(scratch.db, dir, e.command));

    server = await startServer(scratch.url, dir, clients);
    for (const link of server.links.slice(0, clients)) http.push(await signIn(link));
    for (let i = 0; i < clients; i++) {
      const c = new pg.Client({ connectionString: scratch.url, application_name: 'bench-floor' });
      await c.connect();
      floorClients.push(c);
    }
    const base = server.url;
    // The Portal's pool, as openPostgres makes it: 10 connections, each statement on any of them.
    pool = new pg.Pool({ connectionString: scratch.url, max: 10, application_name: 'bench-floor-pool' });
    const poolCallers = Array.from({ length: clients }, (_, i) => i);
    const at = (i: number) => ENDPOINTS[i % ENDPOINTS.length]!;
    type Case = { name: string; portal: (c: Client, i: number) => Promise<number>; statements: (i: number) => Statement[] };
    const cases: Case[] = [
      ...ENDPOINTS.map((e) => ({ name: e.name, portal: (c: Client) => get(base, c, e.path), statements: () => floorOf.get(e.name)! })),
      { name: 'mixed', portal: (c: Client, i: number) => get(base, c, at(i).path), statements: (i: number) => floorOf.get(at(i).name)! },
    ];
    const sides = {
      portal: (c: Case, n: number, k = clients) => closedLoop(http.slice(0, k), n, c.portal),
      pool: (c: Case, n: number, k = clients) => closedLoop(poolCallers.slice(0, k), n, (_, i) => replay(pool!, c.statements(i))),
      conns: (c: Case, n: number, k = clients) => closedLoop(floorClients.slice(0, k), n, (conn, i) => replay(conn, c.statements(i))),
    };
    type Side = keyof typeof sides;
    const order: Side[] = ['portal', 'pool', 'conns'];

    // Warm up as a running Portal is warm: JIT, sockets, the pools, the database's caches.
    for (const side of order) await sides[side](cases.at(-1)!, 4);

    const ms = new Map<string, Record<Side, number[]>>(cases.map((c) => [c.name, { portal: [], pool: [], conns: [] }]));
    for (let r = 0; r < rounds; r++) {
      for (const c of cases) {
        // In turns, the order rotated each round: the machine's speed drifts.
        for (let k = 0; k < order.length; k++) {
          const side = order[(k + r) % order.length]!;
          ms.get(c.name)![side].push(...(await sides[side](c, requests)));
        }
      }
    }
    // For scale: the same mix asked by one client alone (no queueing anywhere).
    const one = { ...cases.at(-1)!, name: 'mixed, 1 client' };
    ms.set(one.name, {
      portal: await sides.portal(one, requests * 4, 1),
      pool: await sides.pool(one, requests * 4, 1),
      conns: await sides.conns(one, requests * 4, 1),
    });
    cases.push(one);

    const f = (x: number) => x.toFixed(1).padStart(6);
    const ratio = (a: number[], b: number[], q: (xs: number[]) => number) => `${(q(a) / q(b)).toFixed(2)}×`.padStart(6);
    const p50 = (xs: number[]) => median(xs);
    const p99 = (xs: number[]) => percentile(xs, 99);
    const out = [
      `Portal read latency, ms: ${clients} concurrent clients × ${requests} requests in a row, ${rounds} rounds; ${what} (${rows.toLocaleString('en-US')} rows in the warehouse), Node ${process.versions.node}`,
      '  Portal: over HTTP, each client its own session and connection. pg pool: the same statements through a pool of 10',
      '  connections, as the Portal has. pg conns: the same statements, each client its own connection.',
      '                         Portal        | pg pool of 10 | pg conns      | Portal / pool | Portal / conns |',
      'endpoint          count    p50    p99 |    p50    p99 |    p50    p99 |    p50    p99 |    p50    p99 | statements',
    ];
    for (const c of cases) {
      const { portal: a, pool: b, conns: d } = ms.get(c.name)!;
      const statements = c.name.startsWith('mixed') ? '' : String(floorOf.get(c.name)!.length);
      out.push(
        `${c.name.padEnd(16)} ${String(a.length).padStart(6)} ${f(p50(a))} ${f(p99(a))} | ${f(p50(b))} ${f(p99(b))} | ${f(p50(d))} ${f(p99(d))} | ` +
          `${ratio(a, b, p50)} ${ratio(a, b, p99)} | ${ratio(a, d, p50)} ${ratio(a, d, p99)}  | ${statements}`,
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);

    if (!existsSync(CHROMIUM)) {
      process.stdout.write(`\n[skip] time to first render: no Chromium at ${CHROMIUM} (apt-get install -y chromium)\n`);
      return;
    }
    const page = await pageLoads(base, server.links[clients]!, loads);
    const row = (label: string, xs: number[]) =>
      `  ${label.padEnd(42)} median ${median(xs).toFixed(0).padStart(5)} ms   min ${Math.min(...xs)
        .toFixed(0)
        .padStart(5)} ms   max ${Math.max(...xs)
        .toFixed(0)
        .padStart(5)} ms`;
    process.stdout.write(
      `\nTime to first render: headless Chromium, a new profile each load (nothing cached), signed in, 1280×900, ${loads} loads (${page.kb.toFixed(0)} kB transferred each: the page, its script and style, the API's answers)\n` +
        `${row('navigation start → first contentful paint', page.fcp)}\n${row('navigation start → dashboard populated', page.populated)}\n` +
        `  the page's requests, sent → answered (median ms since navigation start): ${[...page.requests]
          .filter(([p]) => p !== '/api/events')
          .sort((a, b) => median(a[1].end) - median(b[1].end))
          .map(([p, r]) => `${p} ${median(r.start).toFixed(0)} → ${median(r.end).toFixed(0)}`)
          .join(', ')}\n`,
    );
  } finally {
    for (const c of http) c.agent.destroy();
    await Promise.all(floorClients.map((c) => c.end()));
    await pool?.end();
    if (server) {
      const gone = new Promise((r) => server!.child.once('exit', r));
      server.child.kill('SIGTERM');
      await gone;
    }
    await scratch.drop();
  }
}

if (process.argv.includes('--serve')) {
  serve().catch((err: unknown) => {
    process.stderr.write(`bench portal (server): ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`bench portal: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
