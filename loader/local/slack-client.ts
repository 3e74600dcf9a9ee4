/**
 * `npx benchsight slack "/benchsight history"`: sends a slash command to the local bot as
 * Slack would (form-encoded, signed with the stack's signing secret), prints the bot's
 * answer, and waits for what it sends later to the response_url (results of slow work).
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StackState } from './state';

interface SlackMessage {
  text?: string;
  blocks?: { type: string; text?: { text?: string }; elements?: { text?: { text?: string } | string }[] }[];
}

function messageText(m: SlackMessage): string {
  const parts: string[] = [];
  for (const b of m.blocks ?? []) {
    if (b.text?.text) parts.push(b.text.text);
    for (const e of b.elements ?? []) {
      const t = typeof e.text === 'string' ? e.text : e.text?.text;
      if (t) parts.push(`[${t}]`);
    }
  }
  return (parts.length ? parts.join('\n') : (m.text ?? '')).replace(/```/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function signSlackRequest(secret: string, body: string, ts = Math.floor(Date.now() / 1000)): Record<string, string> {
  const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig, 'content-type': 'application/x-www-form-urlencoded' };
}

/**
 * The exit code a Slack answer stands for, by the icon that heads it (bot/messages.ts
 * gives each outcome class its own): the same codes as the CLI's for the same outcome.
 */
export function exitCodeOfAnswer(m: { text?: string; blocks?: readonly unknown[] }): number {
  const first = m.blocks?.[0] as { text?: { text?: string } } | undefined;
  const head = (first?.text?.text ?? m.text ?? '').trimStart();
  if (head.startsWith(':x:')) return 1;
  if (head.startsWith(':no_entry:')) return 2;
  if (head.startsWith(':no_entry_sign:')) return 130;
  if (head.startsWith(':warning:')) return /PARTIAL/.test(head) ? 3 : 1;
  return 0;
}

export async function sendSlash(
  state: StackState,
  text: string,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
  opts: { waitMs?: number; json?: boolean } = {},
): Promise<number> {
  const later: SlackMessage[] = [];
  let notify: (() => void) | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        later.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as SlackMessage);
      } catch {
        /* not a message */
      }
      res.end('ok');
      notify?.();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`;
    const body = new URLSearchParams({
      token: 'local',
      team_id: state.teamId,
      team_domain: 'local',
      channel_id: 'C0LOCAL',
      channel_name: 'local',
      user_id: state.userId,
      user_name: 'you',
      command: '/benchsight',
      text: text.replace(/^\/benchsight\s*/, ''),
      response_url: responseUrl,
      trigger_id: randomBytes(8).toString('hex'),
      api_app_id: 'A0LOCAL',
    }).toString();
    const res = await fetch(state.botUrl, { method: 'POST', headers: signSlackRequest(state.signingSecret, body), body });
    const raw = await res.text();
    if (!res.ok) {
      io.stderr.write(`the bot answered HTTP ${res.status}: ${raw}\n`);
      return 1;
    }
    const first: SlackMessage = raw ? (JSON.parse(raw) as SlackMessage) : { text: '' };
    const print = (m: SlackMessage) => io.stdout.write(opts.json ? `${JSON.stringify(m)}\n` : `${messageText(m)}\n`);
    print(first);
    // Slow work is acknowledged ("queued …", "working on …") and answered later at the
    // response_url, after "started …" and "still working …" notes: wait for the answer.
    const waits = /^(queued |working on )/.test(first.text ?? '');
    const deadline = Date.now() + (opts.waitMs ?? (waits ? 300_000 : 0));
    let shown = 0;
    while (Date.now() < deadline) {
      await new Promise<void>((r) => {
        notify = r;
        setTimeout(r, 250);
      });
      for (; shown < later.length; shown++) print(later[shown]!);
      if (later.some((m) => !/^(started |still working )/.test(m.text ?? ''))) break;
    }
    // The answer is the last message: the result of slow work, or the immediate reply.
    const answer = [...later].reverse().find((m) => !/^(started |still working )/.test(m.text ?? '')) ?? first;
    return exitCodeOfAnswer(answer);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}
