/**
 * The Portal page in real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core), against the Portal as `npm start` runs it (real PostgreSQL, a real
 * local drop bucket and the S3 loader): sign in, drag a generated export onto the page and
 * watch it load to the end, a scoped load, a destructive one cancelled and confirmed, a
 * failed load opened to read its error, and the status board changing when another
 * process drops a file into the bucket. Screenshots of the main screens at 1280 and 390 px
 * go to .benchsight/screenshots/portal (ignored by git).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '../../loader/generate';
import { csvFor, miniLeague } from '../support/fixtures';
import { BUCKET, startHarness, type Harness } from './support/harness';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(__dirname, '../../.benchsight/screenshots/portal');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`skipped: the Portal's browser tests need Debian's chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`);

let h: Harness;
let browser: Browser;
let page: Page;
let game: number;
let exportFiles: { name: string; body: string }[];

async function shoot(name: string) {
  // A modal dialog is drawn over the viewport: the screen as a person sees it, not the whole page.
  const modal = (await page.locator('dialog[open]').count()) > 0;
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 1280 ? 900 : 844 });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: !modal });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

const upload = () => page.getByRole('region', { name: 'Upload CSV files' });
const scope = () => page.getByRole('region', { name: 'Load by scope' });
const badge = (file: string) => page.locator(`li.file[data-file="${file}"] .badge`);

describe.skipIf(!haveChromium)('the Portal page in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const dir = mkdtempSync(path.join(tmpdir(), 'bs-portal-export-'));
    const g = await generateExport({ games: 1, outDir: dir, seed: 7 });
    game = g.gameIds[0]!;
    exportFiles = g.files.map((f) => ({ name: path.basename(f.path), body: readFileSync(f.path, 'utf8') }));
    h = await startHarness({ ui: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('signs in with the one-time link and shows the status board', async () => {
    await page.goto(h.portal.signInLink('ada'));
    await expect.poll(() => page.locator('.who').textContent()).toContain('admin');
    await expect.poll(() => page.locator('tr[data-table="dim_team"] td.num').textContent()).toBe('2');
    // Nothing was fetched from anywhere but the Portal itself; the board, once per visit
    // (the live feed's first event carries the version the session gave: no news).
    const origins = new Set<string>();
    let countsAsked = 0;
    const onRequest = (r: { url(): string }) => {
      origins.add(new URL(r.url()).origin);
      if (new URL(r.url()).pathname === '/api/tables/counts') countsAsked++;
    };
    page.on('request', onRequest);
    await page.reload();
    await page.locator('.who').waitFor();
    await expect.poll(() => page.locator('tr[data-table="dim_team"] td.num').textContent()).toBe('2');
    await page.waitForTimeout(1500); // the feed looks every second
    page.off('request', onRequest);
    expect([...origins]).toEqual([h.portal.url]);
    expect(countsAsked).toBe(1);
    await shoot('01-signed-in');
  });

  it('a generated export dragged onto the page is detected, uploaded and loaded to the end', async () => {
    const dt = await page.evaluateHandle((files) => {
      const d = new (globalThis as any).DataTransfer();
      for (const f of files) d.items.add(new (globalThis as any).File([f.body], f.name, { type: 'text/csv' }));
      return d;
    }, exportFiles);
    await page.dispatchEvent('.dropzone', 'drop', { dataTransfer: dt });
    await expect.poll(() => page.locator('li.file').count()).toBe(exportFiles.length);
    // Each file's table, detected from its name as the bucket does, is shown before anything is sent.
    await expect.poll(() => page.locator('li.file[data-file="fact_events.csv"] select').inputValue()).toBe('fact_events');
    await upload().getByLabel('Operation', { exact: true }).selectOption('upsert');
    await shoot('02-files-ready');
    await page.getByRole('button', { name: 'Upload & Process' }).click();
    for (const f of exportFiles) await expect.poll(() => badge(f.name).textContent(), { timeout: 60_000 }).toBe('loaded');
    await expect.poll(() => page.locator('li.file[data-file="fact_events.csv"] .job-rows').textContent()).toMatch(/inserted/);
    const n = Number((await h.tdb.db.query<{ n: string }>('SELECT count(*) AS n FROM fact_events WHERE game_id = $1', [game])).rows[0]!.n);
    expect(n).toBeGreaterThan(0);
    await shoot('03-uploaded');
  });

  it('runs a scoped load (one game, one table, upsert) and follows the job to its end', async () => {
    const form = scope();
    await form.getByLabel('Scope', { exact: true }).selectOption('game');
    await form.getByLabel('Game', { exact: true }).selectOption(String(game));
    await form.getByRole('radio', { name: 'One table…' }).check();
    await form.getByLabel('Table', { exact: true }).selectOption('fact_events');
    await form.getByRole('radio', { name: 'Upsert' }).check();
    await form.getByRole('button', { name: 'Execute Load' }).click();
    const job = page.locator('li.job').first();
    await expect.poll(() => job.locator('.badge').textContent(), { timeout: 30_000 }).toBe('succeeded');
    expect(await job.textContent()).toContain(`load of table fact_events, game ${game} (upsert)`);
    expect(await job.locator('.job-rows').textContent()).toMatch(/\d+ updated/);
  });

  it('a destructive load asks first: cancelled it runs nothing; confirmed it runs', async () => {
    const before = (await h.tdb.db.query<{ n: string }>('SELECT count(*) AS n FROM load_history')).rows[0]!.n;
    await scope().getByRole('radio', { name: 'Replace game' }).check();
    await scope().getByRole('button', { name: 'Execute Load' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(`load of table fact_events, game ${game} (replace)`);
    await shoot('04-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.locator('.note').textContent()).toContain('cancelled, nothing was run');
    const cancelled = await h.tdb.db.query<{ status: string }>(`SELECT status FROM load_history WHERE id > $1 AND kind = 'command'`, [before]);
    expect(cancelled.rows.map((r) => r.status)).toEqual(['refused']);

    await scope().getByRole('button', { name: 'Execute Load' }).click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Yes, do it' }).click();
    const job = page.locator('li.job').first();
    await expect.poll(() => job.textContent()).toContain('(replace)');
    await expect.poll(() => job.locator('.badge').textContent(), { timeout: 30_000 }).toBe('succeeded');
  });

  it('a failed load, opened from Recent operations, shows its file, line, column and value', async () => {
    const events = miniLeague().events.map((e, i) => (i === 2 ? { ...e, period: 'third' } : e));
    const dt = await page.evaluateHandle(
      (body) => {
        const d = new (globalThis as any).DataTransfer();
        d.items.add(new (globalThis as any).File([body], 'fact_events.csv', { type: 'text/csv' }));
        return d;
      },
      csvFor('fact_events', events),
    );
    await page.getByRole('button', { name: 'Clear finished' }).click();
    await page.dispatchEvent('.dropzone', 'drop', { dataTransfer: dt });
    await page.getByRole('button', { name: 'Upload & Process' }).click();
    await expect.poll(() => badge('fact_events.csv').textContent(), { timeout: 30_000 }).toBe('failed');
    expect(await page.locator('li.file .problem').textContent()).toMatch(/third/);

    const failed = page.locator('table.history tr.status-failed').first();
    await failed.getByRole('button').click();
    const detail = page.locator('.detail');
    await expect.poll(() => detail.locator('.where').textContent()).toMatch(/Line4/);
    const where = await detail.locator('.where').textContent();
    expect(where).toContain('Columnperiod');
    expect(where).toContain('Valuethird');
    await detail.scrollIntoViewIfNeeded();
    await shoot('05-failed-load');
    await detail.getByRole('button', { name: 'Close' }).click();
  });

  it('the status board changes when another process drops a file into the bucket', async () => {
    const cell = page.locator('tr[data-table="dim_team"] td.num');
    const before = Number((await cell.textContent())!.replace(/,/g, ''));
    const teams = [...miniLeague().teams, { index: 9, team_name: 'Dropped In', team_id: 'N19999', league: 'NORAD' }];
    const script = `
      const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');
      const s3 = new S3Client({ region: 'us-east-1', endpoint: process.argv[1], forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      s3.send(new PutObjectCommand({ Bucket: '${BUCKET}', Key: 'op=upsert/dim_team.csv', Body: process.argv[2] })).then(() => console.log('dropped'));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, h.local.endpoint, csvFor('dim_team', teams)], {
      cwd: path.resolve(__dirname, '../..'),
    });
    expect(stdout).toContain('dropped');
    await expect.poll(async () => Number((await cell.textContent())!.replace(/,/g, '')), { timeout: 20_000 }).toBe(before + 1);
  });

  it('names every control it shows (a label, its text, or aria-label)', async () => {
    await page.locator('table.history tr').nth(1).getByRole('button').click();
    await page.locator('.detail').waitFor();
    const unnamed = await page.evaluate(() => {
      const d = (globalThis as any).document;
      const nameOf = (el: any): string => {
        const by = el.getAttribute('aria-labelledby');
        if (by)
          return by
            .split(/\s+/)
            .map((id: string) => d.getElementById(id)?.textContent ?? '')
            .join(' ');
        const own = el.getAttribute('aria-label') ?? (el.id ? d.querySelector(`label[for="${el.id}"]`)?.textContent : null) ?? el.closest('label')?.textContent;
        if (own) return own;
        return el.tagName === 'BUTTON' || el.getAttribute('role') === 'button' ? (el.textContent ?? '') : '';
      };
      return [...d.querySelectorAll('button, select, input, textarea, [role="button"]')]
        .filter((el: any) => el.getClientRects().length > 0)
        .filter((el: any) => !nameOf(el).trim())
        .map((el: any) => el.outerHTML.slice(0, 120));
    });
    expect(unnamed).toEqual([]);
    await page.locator('.detail').getByRole('button', { name: 'Close' }).click();
  });

  it('is keyboard-usable: the drop zone takes focus, the confirmation closes with Escape', async () => {
    await page.locator('.dropzone').focus();
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.getAttribute('aria-label'))).toMatch(/Drop CSV files here/);
    await page.getByRole('button', { name: 'Full Refresh' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('.note').textContent()).toContain('cancelled');
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await shoot('06-main');
  });
});
