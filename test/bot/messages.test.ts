/** Messages stay within Slack's limits and show text as typed. */
import { describe, expect, it } from 'vitest';
import { codeBlocks, confirmPrompt, escapeMrkdwn, noteMessage, outcomeMessage } from '../../bot/messages';

const sectionText = (b: unknown) => (b as { text: { text: string } }).text.text;

describe('messages', () => {
  it('splits long tables into code blocks of at most 3,000 characters, and says when it cuts', () => {
    const line = `${'x'.repeat(100)}`;
    const blocks = codeBlocks(Array.from({ length: 200 }, (_, i) => `${i} ${line}`).join('\n'));
    expect(blocks.length).toBeGreaterThan(5);
    for (const b of blocks) expect(sectionText(b).length).toBeLessThanOrEqual(3000);
    expect(blocks.map(sectionText).join('\n')).toContain('199 xxx');

    const huge = codeBlocks(Array.from({ length: 3000 }, () => line).join('\n'));
    expect(huge.length).toBeLessThanOrEqual(41);
    expect(sectionText(huge.at(-1))).toMatch(/more lines not shown/);
  });

  it('escapes what mrkdwn would read as markup', () => {
    expect(escapeMrkdwn('load <table> & <!channel>')).toBe('load &lt;table&gt; &amp; &lt;!channel&gt;');
    expect(sectionText(noteMessage('only <@U0ADMIN> in <#C0DATA>, not <!channel>').blocks![0])).toBe('only <@U0ADMIN> in <#C0DATA>, not &lt;!channel&gt;');
    const m = outcomeMessage({ kind: 'text', ok: false, text: 'no <b> here' }, { title: 'x & y' });
    expect(sectionText(m.blocks![0])).toBe(':x: *x &amp; y*: no &lt;b&gt; here');
  });

  it('a load is headed by its outcome: done, PARTIAL (committed with problems), cancelled, failed', () => {
    const result = (status: 'succeeded' | 'partial' | 'cancelled' | 'failed') => ({
      requestId: 'r',
      historyId: 1,
      status,
      dryRun: false,
      scope: 'table fact_events',
      operation: 'upsert',
      gameId: null,
      durationMs: 5,
      tables: [],
      warnings: status === 'partial' ? ['fact_events: 6 of 6 rows rejected'] : [],
    });
    const head = (status: 'succeeded' | 'partial' | 'cancelled' | 'failed') =>
      sectionText(outcomeMessage({ kind: 'load', ok: status === 'succeeded', result: result(status) }, { title: 'load table fact_events' }).blocks![0]);
    expect(head('succeeded')).toBe(':white_check_mark: *load table fact_events* done');
    expect(head('partial')).toBe(':warning: *load table fact_events* PARTIAL: committed, but not all is well (see the warnings)');
    expect(head('cancelled')).toBe(':no_entry_sign: *load table fact_events* cancelled, nothing was changed');
    expect(head('failed')).toBe(':x: *load table fact_events* failed, nothing was changed');
  });

  it('a confirmation prompt has a red confirm button and a plain cancel button', () => {
    const p = confirmPrompt({ description: 'delete of game 1', userId: 'U1', value: 'v', expiresAt: Date.UTC(2026, 0, 1, 12, 5), ttlMs: 300_000 });
    const actions = p.blocks!.find((b) => b.type === 'actions') as { elements: { style?: string; action_id: string; value: string }[] };
    expect(actions.elements.map((e) => [e.action_id, e.style, e.value])).toEqual([
      ['benchsight_confirm', 'danger', 'v'],
      ['benchsight_cancel', undefined, 'v'],
    ]);
    expect(sectionText(p.blocks![0])).toContain('|12:05 UTC> (5 min)');
  });
});
