/**
 * What the bot says, as Slack messages: an outcome (render.ts does the text; tables go
 * in monospace code blocks, errors in plain words), notes, and the confirmation prompt
 * with its two buttons. Pure functions: nothing here talks to Slack.
 */
import type { types } from './bolt';
import type { LoadResult } from '../loader/engine';
import type { Outcome } from '../loader/commands/execute';
import { outcomeClass, type OutcomeClass } from '../loader/commands/outcome-class';
import { renderOutcome } from '../loader/commands/render';

export type Block = types.KnownBlock;

/** The JSON a response_url takes (and, without the response fields, chat.postMessage). */
export interface SlackMessage {
  text: string;
  blocks?: Block[];
  response_type?: 'ephemeral' | 'in_channel';
  replace_original?: boolean;
}

export const CONFIRM_ACTION = 'benchsight_confirm';
export const CANCEL_ACTION = 'benchsight_cancel';

/** Slack's section text limit is 3,000 characters; a message holds at most 50 blocks. */
const SECTION_CHARS = 2900;
const MAX_CODE_BLOCKS = 40;

/** mrkdwn treats &, < and > as control characters; everything else is shown as typed. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function section(mrkdwn: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: mrkdwn } };
}

/** Monospace text in as many code-block sections as it needs, cut (saying so) past the block limit. */
export function codeBlocks(text: string): Block[] {
  const chunks: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.length > SECTION_CHARS ? `${raw.slice(0, SECTION_CHARS - 1)}…` : raw;
    if (current && current.length + line.length + 1 > SECTION_CHARS) {
      chunks.push(current);
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current || !chunks.length) chunks.push(current);
  const shown = chunks.slice(0, MAX_CODE_BLOCKS).map((c) => section(`\`\`\`\n${escapeMrkdwn(c)}\n\`\`\``));
  if (chunks.length > MAX_CODE_BLOCKS) {
    const hidden = chunks.slice(MAX_CODE_BLOCKS).join('\n').split('\n').length;
    shown.push(section(`_…${hidden} more lines not shown: ask for less (e.g. \`history limit 20\`) or use the CLI_`));
  }
  return shown;
}

/** Slack's code blocks read well up to about this many characters a line on a desktop (tables are laid out for it). */
export const SLACK_WIDTH = 110;

/**
 * Each outcome class has its icon (the same class as the CLI's exit code:
 * loader/commands/outcome-class.ts); `benchsight slack` reads it back as that code.
 */
export const CLASS_ICONS: Readonly<Record<OutcomeClass, string>> = {
  succeeded: ':white_check_mark:',
  'nothing to do': ':heavy_minus_sign:',
  partial: ':warning:',
  failed: ':x:',
  cancelled: ':no_entry_sign:',
};

/** A load's numbers in one line, for a context block under the headline. */
function loadSummary(r: LoadResult): string {
  const sum = (f: (t: LoadResult['tables'][number]) => number) => r.tables.reduce((a, t) => a + f(t), 0).toLocaleString('en-US');
  return [
    `${r.tables.length} table${r.tables.length === 1 ? '' : 's'}`,
    `${sum((t) => t.inserted)} inserted`,
    `${sum((t) => t.updated)} updated`,
    `${sum((t) => t.deleted)} deleted`,
    `${sum((t) => t.rejected)} rejected`,
    `${(r.durationMs / 1000).toFixed(1)} s`,
    `history #${r.historyId}`,
  ].join(' · ');
}

/** An outcome as a message: a headline in plain words (its class's icon first), then the details in a code block. */
export function outcomeMessage(outcome: Outcome, opts: { title: string; userId?: string }): SlackMessage {
  const text = renderOutcome(outcome, { width: SLACK_WIDTH });
  const by = opts.userId ? ` (asked by <@${opts.userId}>)` : '';
  const cls = outcomeClass(outcome);
  const title = escapeMrkdwn(opts.title);
  if (outcome.kind === 'text') {
    const lead = outcome.ok ? '' : `${CLASS_ICONS.failed} `;
    return { text: `${opts.title}: ${text}`, blocks: [section(`${lead}*${title}*${by}: ${escapeMrkdwn(text)}`)] };
  }
  let headline: string;
  const extra: Block[] = [];
  if (outcome.kind === 'load') {
    const r = outcome.result;
    const said: Record<OutcomeClass, string> = {
      succeeded: r.dryRun ? 'dry run done (nothing changed)' : 'done',
      'nothing to do': r.dryRun ? 'dry run: nothing would change' : 'nothing to do: every row was already there',
      partial: r.dryRun ? 'PARTIAL: the dry run found problems (nothing changed)' : 'PARTIAL: committed, but not all is well (see the warnings)',
      failed: 'failed, nothing was changed',
      cancelled: 'cancelled, nothing was changed',
    };
    headline = `${CLASS_ICONS[cls]} *${title}* ${said[cls]}${by}`;
    if (r.tables.length) extra.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(loadSummary(r)) }] });
  } else {
    headline = `${outcome.ok ? '' : `${CLASS_ICONS.failed} `}*${title}*${by}`;
  }
  const firstLine = text.split('\n')[0] ?? '';
  return { text: `${opts.title}: ${firstLine}`, blocks: [section(headline), ...extra, ...codeBlocks(text)] };
}

/** Escaped text in which user and channel mentions (<@U…>, <#C…>) still work; no broadcasts. */
function withMentions(text: string): string {
  return escapeMrkdwn(text).replace(/&lt;([@#])([UWCG][A-Z0-9]+)&gt;/g, '<$1$2>');
}

/** A short answer in plain words (refusals, "queued …", "cancelled …"). */
export function noteMessage(text: string, icon?: 'refused' | 'warning' | 'ok' | 'working'): SlackMessage {
  const emoji = { refused: ':no_entry: ', warning: ':warning: ', ok: ':white_check_mark: ', working: ':hourglass_flowing_sand: ' };
  return { text, blocks: [section(`${icon ? emoji[icon] : ''}${withMentions(text)}`)] };
}

/** The prompt of a destructive command: a red confirm button and a cancel button, both carrying the signed value. */
export function confirmPrompt(a: { description: string; userId: string; value: string; expiresAt: number; ttlMs: number }): SlackMessage {
  const unix = Math.floor(a.expiresAt / 1000);
  const minutes = Math.max(1, Math.round(a.ttlMs / 60_000));
  const fallback = new Date(a.expiresAt).toISOString().slice(11, 16);
  const text = `${a.description} destroys data and cannot be undone. Confirm or cancel.`;
  return {
    text,
    response_type: 'ephemeral',
    blocks: [
      section(
        `:warning: *${escapeMrkdwn(a.description)}* destroys data and cannot be undone.\n` +
          `Only <@${a.userId}> can confirm. The buttons work once and expire at <!date^${unix}^{time}|${fallback} UTC> (${minutes} min).`,
      ),
      {
        type: 'actions',
        block_id: 'benchsight_confirmation',
        elements: [
          { type: 'button', action_id: CONFIRM_ACTION, style: 'danger', text: { type: 'plain_text', text: 'Yes, do it' }, value: a.value },
          { type: 'button', action_id: CANCEL_ACTION, text: { type: 'plain_text', text: 'Cancel' }, value: a.value },
        ],
      },
    ],
  };
}
