/**
 * `npx tsx bench/bot-ack.ts [--concurrency 50] [--rounds 5]`: how fast the bot acks.
 * Fires N signed slash commands at once at the local Bolt endpoint (127.0.0.1) and
 * times each HTTP answer, per kind of command:
 *   help      — answered from memory
 *   history   — a database read, answered in the ack
 *   load      — recorded, handed to the dispatcher, "queued …, job N" (the load itself
 *               runs afterwards, in the same process, competing for the CPU)
 *   mixed     — the three, interleaved
 * Slack needs the ack within 3 s; the goal here is p99 < 300 ms.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { folderSource } from '../loader/engine';
import { startBot } from '../bot/server';
import type { BotConfig } from '../bot/config';
import { generatedGames, median, scratchDatabase } from './support';

const SECRET = 'bench-signing-secret-0123456789ab';
const TEAM = 'T0BENCH';
const USER = 'U0BENCH';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** A local server that takes every POST and answers ok (response_url and the Slack Web API). */
async function sink(): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"ts":"1.2"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    count: () => n,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function signedSlash(url: string, text: string, responseUrl: string): Promise<{ ms: number; status: number; text: string }> {
  const body = new URLSearchParams({
    team_id: TEAM,
    channel_id: 'C0BENCH',
    user_id: USER,
    command: '/benchsight',
    text,
    response_url: responseUrl,
    trigger_id: randomBytes(8).toString('hex'),
    api_app_id: 'A0',
  }).toString();
  const ts = Math.floor(Date.now() / 1000);
  const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': sig,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const concurrency = arg('concurrency', 50);
  const rounds = arg('rounds', 5);
  const games = await generatedGames(2);
  const scratch = await scratchDatabase('bs_bench_bot_ack');
  const hooks = await sink();
  const slackApi = await sink();
  const config: BotConfig = {
    signingSecret: SECRET,
    botToken: 'xoxb-bench',
    slackApiUrl: `${slackApi.url}api/`,
    teamId: TEAM,
    roles: { admins: [USER], operators: [], viewers: [] },
    channels: null,
    notifyChannel: 'C0NOTIFY',
    confirmTtlMs: 300_000,
    botId: 'B0BENCH',
    botUserId: 'U0BOT',
  };
  const errors: string[] = [];
  const bot = await startBot({ config, db: scratch.db, port: 0, source: async () => folderSource(games), log: (l) => errors.push(l) });
  try {
    // Warm up as a running bot is warm: JIT, the HTTP keep-alive sockets, the database pool.
    for (let r = 0; r < 2; r++) {
      await Promise.all(
        Array.from({ length: concurrency }, (_, i) => signedSlash(bot.url, ['help', 'history limit 10', 'load category dims upsert'][i % 3]!, hooks.url)),
      );
      await (bot.dispatcher as { drain?: () => Promise<void> }).drain?.();
    }

    const kinds: Record<string, (i: number) => string> = {
      help: () => 'help',
      history: () => 'history limit 10',
      load: () => 'load category dims upsert',
      mixed: (i) => ['help', 'history limit 10', 'load category dims upsert'][i % 3]!,
    };
    const rows: string[] = [];
    const all: Record<string, number[]> = {};
    for (const [kind, text] of Object.entries(kinds)) {
      const samples: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const answers = await Promise.all(Array.from({ length: concurrency }, (_, i) => signedSlash(bot.url, text(i), hooks.url)));
        for (const a of answers) {
          if (a.status !== 200) throw new Error(`${kind}: HTTP ${a.status} ${a.text.slice(0, 200)}`);
          if (text(0).startsWith('load') && kind === 'load' && !a.text.includes('queued')) throw new Error(`load not queued: ${a.text.slice(0, 200)}`);
          samples.push(a.ms);
        }
        // Let queued loads drain between rounds, so that each round starts alike.
        await (bot.dispatcher as { drain?: () => Promise<void> }).drain?.();
      }
      all[kind] = samples;
      rows.push(
        `${kind.padEnd(8)} ${String(samples.length).padStart(5)}  ${median(samples).toFixed(1).padStart(7)}  ${percentile(samples, 95).toFixed(1).padStart(7)}  ` +
          `${percentile(samples, 99).toFixed(1).padStart(7)}  ${Math.max(...samples)
            .toFixed(1)
            .padStart(7)}  ${percentile(samples, 99) < 300 ? 'ok' : 'OVER 300 ms'}`,
      );
    }
    process.stdout.write(
      `bot ack latency: ${concurrency} concurrent signed slash commands per round, ${rounds} rounds, Node ${process.versions.node}\n` +
        `kind     count  p50 ms   p95 ms   p99 ms   max ms\n${rows.join('\n')}\n` +
        `response_url posts: ${hooks.count()}, chat.postMessage calls: ${slackApi.count()}, bot log lines: ${errors.length}\n`,
    );
    if (errors.length) process.stderr.write(`${errors.slice(0, 5).join('\n')}\n`);
  } finally {
    await bot.stop();
    await hooks.close();
    await slackApi.close();
    agent.destroy();
    await scratch.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bot-ack: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
