/**
 * `npm start`: the whole product on one machine. With no configuration: the embedded
 * PostgreSQL (a real server, in <data dir>/postgres, on a free port of 127.0.0.1)
 * migrated, a local drop bucket (s3rver, in <data dir>/s3) whose uploads go to the
 * loader's code, the worker loop, and the Slack bot's endpoint on 127.0.0.1 with a
 * generated signing secret (Slack's API is stood in for by a local server that prints
 * messages here), and the Admin Portal on 127.0.0.1 (a one-time sign-in link is printed). DATABASE_URL, and DROP_BUCKET with AWS_ENDPOINT_URL_S3, are used
 * instead when set. Other terminals' `npx benchsight` commands find the database and the
 * bucket in <data dir>/stack.json and connect to them directly. On a first start with
 * an empty warehouse, a generated sample is dropped into the bucket and loaded.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { BotConfig } from '../../bot/config';
import { rolesFromEnv } from '../../bot/roles';
import { startBot, type RunningBot } from '../../bot/server';
import type { Io } from '../cli/io';
import { stopped } from '../cli/stopped';
import { counts } from '../commands/execute';
import type { Config } from '../config';
import type { Database } from '../db/database';
import { useEmbedded } from '../db/embedded';
import { migrate } from '../db/migrate';
import { openPostgres } from '../db/postgres';
import { generateExport } from '../generate';
import { createLogger, lineLog } from '../log';
import { startSlackStandin } from '../local/slack-standin';
import { readLiveState, removeState, writeState, type StackState } from '../local/state';
import { makeS3Client, s3ConfigFromEnv } from '../s3/client';
import { dropFiles } from '../s3/drop';
import { eventQueue, LOCAL_CREDENTIALS, startLocalS3 } from '../s3/local';
import { slackNotifier } from '../s3/notify';
import { handleS3Event } from '../s3/process-event';
import { runWorker } from '../worker/run-worker';
import { bucketSource, commandExtensions, jobHandlers, trackerIngest } from './context';

const READY_LINE = 'BenchSight Ops is ready';
const LOCAL_BUCKET = 'benchsight-drop';
const LOCAL_TEAM = 'T0LOCAL';
const LOCAL_USER = 'U0LOCAL';

interface StackOptions {
  config: Config;
  env: NodeJS.ProcessEnv;
  /** The stack's own lines (what runs where, how to try it): for the person at the terminal. */
  out: (line: string) => void;
  /** The parts' log lines (database, loader, worker, bot, etl), by component. */
  log: (component: string) => (line: string) => void;
  botPort?: number;
  s3Port?: number;
  portalPort?: number;
  /** Drop a generated sample into an empty warehouse (default true). */
  sample?: boolean;
}

interface RunningStack {
  state: StackState;
  stop(): Promise<void>;
}

async function startStack(o: StackOptions): Promise<RunningStack> {
  const { out, env, config, log } = o;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => out(`while stopping: ${(err as Error).message}`));
    stops.length = 0;
  };
  // The Portal's server and its page (built when its sources changed) get ready while the
  // database starts. Loaded here, not imported at the top: every other command of the CLI
  // imports this file and need not load the Portal to print a count. (`require`: the CLI
  // runs under tsx's CommonJS hook, where `import()` of a .ts file does not resolve.)
  const portalReady = new Promise<void>((r) => setImmediate(r)).then(async () => {
    const m = require('./portal-local') as typeof import('./portal-local');
    await m.prepareLocalPortal();
    return m;
  });
  portalReady.catch(() => undefined); // (awaited below; a failure is reported there)
  try {
    // Database: DATABASE_URL's, or the embedded server, which this process runs.
    let databaseUrl = config.databaseUrl;
    let db: Database;
    if (databaseUrl) {
      db = openPostgres({ url: databaseUrl });
    } else {
      const server = await useEmbedded({ dataDir: config.dataDir, owner: 'stack', log: log('database') });
      stops.push(() => server.release());
      databaseUrl = server.url;
      db = openPostgres({ url: server.url, label: `embedded PostgreSQL ${server.version} in ${server.dir} (127.0.0.1:${server.port})` });
    }
    stops.push(() => db.close());
    const m = await migrate(db, { log: log('migrate') });
    out(`database: ${db.label} (schema version ${m.version})`);

    // Slack stand-in (unless a real Slack API URL is configured).
    let slackApiUrl = env.SLACK_API_URL;
    if (!slackApiUrl) {
      const standin = await startSlackStandin(out);
      stops.push(() => standin.stop());
      slackApiUrl = standin.url;
    }
    const botToken = env.SLACK_BOT_TOKEN ?? 'xoxb-local-stand-in';
    const notifyChannel = env.SLACK_NOTIFY_CHANNEL ?? 'benchsight-loads';

    // Drop bucket: a configured S3, or a local one whose events reach the loader here.
    const s3c = s3ConfigFromEnv(env);
    let s3Endpoint: string;
    let bucket: string;
    const s3Env: NodeJS.ProcessEnv = {};
    const s3 = await (async () => {
      if (s3c.bucket && s3c.endpoint) {
        s3Endpoint = s3c.endpoint;
        bucket = s3c.bucket;
        out(`drop bucket: s3://${bucket} at ${s3Endpoint} (configured; its upload events go to the loader Lambda, not here)`);
        return makeS3Client(s3c);
      }
      const client = () => makeS3Client({ endpoint: s3Endpoint, region: 'us-east-1', bucket, credentials: LOCAL_CREDENTIALS });
      const queue = eventQueue(async (e) => {
        await handleS3Event(e, {
          db,
          s3: client(),
          ingestTracker: trackerIngest(db),
          notifier: slackNotifier({ token: botToken, channel: notifyChannel, apiUrl: slackApiUrl }),
          log: (l) => {
            if (!l.startsWith('ignored:')) log('loader')(l);
          },
        });
      }, log('loader'));
      const local = await startLocalS3({ dir: path.resolve(config.dataDir, 's3'), bucket: LOCAL_BUCKET, port: o.s3Port ?? 0, onEvent: (e) => queue.push(e) });
      stops.push(() => local.stop());
      stops.push(() => queue.idle());
      s3Endpoint = local.endpoint;
      bucket = LOCAL_BUCKET;
      Object.assign(s3Env, { AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey });
      out(`drop bucket: s3://${bucket} at ${s3Endpoint} (local, data in ${path.resolve(config.dataDir, 's3')})`);
      return client();
    })();
    Object.assign(s3Env, { DROP_BUCKET: bucket!, AWS_ENDPOINT_URL_S3: s3Endpoint!, AWS_REGION: env.AWS_REGION ?? 'us-east-1' });
    const source = bucketSource(s3, bucket!);

    // Worker loop.
    const workerStop = new AbortController();
    const worker = runWorker(db, { handlers: jobHandlers(), until: workerStop.signal, pollMs: 1000, log: log('worker') });
    stops.push(async () => {
      workerStop.abort();
      await worker.catch(() => undefined);
    });
    out('worker: polling the job queue every second');

    // Slack bot. Roles: BENCHSIGHT_ROLES when set (the Portal reads it too), else everyone a viewer;
    // the local stand-in's user (`npx benchsight slack ...`) is an admin.
    const signingSecret = env.SLACK_SIGNING_SECRET ?? randomBytes(16).toString('hex');
    const roles = rolesFromEnv(env, { older: 'SLACK_ROLES' }) ?? { admins: [], operators: [], viewers: ['*'] };
    const botConfig: BotConfig = {
      signingSecret,
      botToken,
      slackApiUrl,
      teamId: env.SLACK_TEAM_ID ?? LOCAL_TEAM,
      roles: { ...roles, admins: [...roles.admins, ...(env.SLACK_TEAM_ID ? [] : [LOCAL_USER])] },
      channels: null,
      notifyChannel,
      confirmTtlMs: 5 * 60_000,
      botId: 'B0LOCAL',
      botUserId: 'U0LOCALBOT',
    };
    const extensions = commandExtensions(db, log('etl'));
    let bot: RunningBot;
    try {
      bot = await startBot({ config: botConfig, db, port: o.botPort ?? 3000, source, extensions, log: log('bot') });
    } catch {
      bot = await startBot({ config: botConfig, db, port: 0, source, extensions, log: log('bot') });
    }
    stops.push(() => bot.stop());
    const { localUser, startLocalPortal } = await portalReady;
    const portal = await startLocalPortal({
      db,
      source,
      extensions,
      bucket: { s3, name: bucket! },
      port: o.portalPort ?? 3001,
      env,
      log: (l) => out(`portal: ${l}`),
    });
    stops.push(() => portal.stop());
    out(`slack bot: ${bot.url} (signing secret ${env.SLACK_SIGNING_SECRET ? 'from SLACK_SIGNING_SECRET' : `${signingSecret}, generated for this run`})`);

    // What other terminals' commands connect to (the file is readable by this user only).
    const state: StackState = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      databaseUrl,
      database: db.label,
      s3Endpoint: s3Endpoint!,
      bucket: bucket!,
      botUrl: bot.url,
      signingSecret,
      teamId: botConfig.teamId,
      userId: LOCAL_USER,
    };
    writeState(config.dataDir, state);
    stops.push(async () => removeState(config.dataDir));

    // First run: show the product on a generated sample.
    if (o.sample !== false && (await counts(db)).every((c) => c.rows === 0)) {
      const dir = path.resolve(config.dataDir, 'sample');
      const g = await generateExport({ games: 3, outDir: dir, seed: 1 });
      out(`first run: generated a sample of ${g.gameIds.length} games (${g.gameIds.join(', ')}) in ${dir}; dropping it into the bucket`);
      await dropFiles(s3, { files: g.files.map((f) => f.path), bucket: bucket!, batch: 'sample', operation: 'replace' });
    }

    out('');
    out(`Admin Portal: ${portal.url}`);
    out(`  sign in (a one-time link, for ${localUser()}): ${portal.signInLink()}`);
    out('');
    out('Try it, in another terminal:');
    out('  npx benchsight counts');
    out('  npx benchsight history');
    out(`  npx benchsight load game <id> replace         (ids: npx benchsight history, or dim_schedule)`);
    out('  npx benchsight drop path/to/fact_events.csv   (any export file; the loader picks it up)');
    out('  npx benchsight slack "/benchsight history"    (a signed request to the local bot)');
    out('  npx benchsight sql "select count(*) from fact_events"');
    out('Stop with Ctrl-C.');
    out(READY_LINE);
    return { state, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `npm start`: runs the local stack until Ctrl-C (SIGINT) or SIGTERM. */
export async function runStack(config: Config, io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const running = readLiveState(config.dataDir);
  if (running) {
    io.stderr.write(
      `benchsight: BenchSight Ops is already running here (pid ${running.pid}, since ${running.startedAt}): ` +
        `database ${running.database}, bot ${running.botUrl}. Use it from another terminal (npx benchsight ...), or stop it with Ctrl-C first\n`,
    );
    return 1;
  }
  const out = (l: string) => io.stdout.write(`${l}\n`);
  // The parts log through pino: `component: message` lines here, JSON lines with LOG_FORMAT=json.
  const logger = createLogger({ service: 'benchsight-stack', level: env.LOG_LEVEL, stream: io.stdout, pretty: env.LOG_FORMAT !== 'json' });
  const stack = await startStack({ config, env, out, log: (component) => lineLog(logger, component) });
  await stopped();
  out('stopping BenchSight Ops ...');
  await stack.stop();
  out('stopped');
  return 0;
}
