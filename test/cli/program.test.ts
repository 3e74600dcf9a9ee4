/**
 * The command line's one parser (commander), without a database: every command of the
 * grammar is a command here, each has its --help (with the grammar's syntax) and --json,
 * a mistyped flag gets a suggestion, a mistyped command the grammar's, bad values are
 * usage errors (exit 2), and `help` loads none of the heavy modules.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GRAMMAR_COMMAND_WORDS } from '../../loader/cli/program';
import { COMMANDS } from '../../loader/commands/grammar';
import { main } from '../../loader/entry/cli';
import { Capture } from '../support/capture';

/** No database anywhere: an empty data folder, no DATABASE_URL. */
const env = { BENCHSIGHT_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'bs-cli-')), USER: 'tester' };

async function run(...argv: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(argv, { stdout, stderr, stdin: Object.assign(new PassThrough(), { isTTY: false }) }, env);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const LOCAL_WITH_JSON = ['migrate', 'generate', 'slack', 'ingest', 'drop', 'sql', 'help'];

describe('one parser for every command', () => {
  it('every word of the command language is a command of the CLI', () => {
    const words = new Set(COMMANDS.map((c) => c.word).filter((w) => w !== 'help'));
    expect(new Set(GRAMMAR_COMMAND_WORDS)).toEqual(words);
  });

  it.each(GRAMMAR_COMMAND_WORDS)('%s --help: usage, the grammar syntax and --json', async (word) => {
    const r = await run(word, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: benchsight ${word} \\[options\\] \\[words\\.\\.\\.\\]`, 'm'));
    for (const c of COMMANDS.filter((x) => x.word === word)) expect(r.stdout).toContain(c.syntax);
    expect(r.stdout).toContain('--json');
  });

  it('load --help lists the load flags', async () => {
    const r = await run('load', '--help');
    for (const f of ['--from <dir>', '--yes', '--dry-run', '--add-columns', '--strict', '--max-rejects', '--allow-shrink']) expect(r.stdout).toContain(f);
  });

  it.each([...GRAMMAR_COMMAND_WORDS.filter((w) => w !== 'etl'), ...LOCAL_WITH_JSON])('%s --jsno: a usage error that suggests --json', async (word) => {
    const r = await run(word, '--jsno');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--jsno'\s+\(Did you mean --json\?\)/);
    expect(r.stderr).toContain(`(see: benchsight ${word} --help)`);
    expect(r.stdout).toBe('');
  });

  it("a mistyped command gets the grammar's suggestion, exit 2", async () => {
    const r = await run('valdate');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "valdate"; did you mean "validate"\?/);
  });

  it.each([
    [['load', 'all', '--max-rejects', 'lots'], /option '--max-rejects <n\|n%>' argument 'lots' is invalid. it takes a number of rows \(50\) or a share/],
    [['drop', 'x.csv', '--game', '-3'], /--game/],
    [['drop', 'x.csv', '--op', 'smash'], /argument 'smash' is invalid. Allowed choices are replace, append, upsert, merge/],
    [['bot', '--port', '99999'], /--port is a whole number from 0 to 65535/],
    [['sql', '--url', '--jsno'], /Did you mean --json/],
  ])('%j is a usage error naming the value', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('help: the command language, the local commands, the exit codes', async () => {
    const r = await run('help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('load table <table> [replace|append|upsert|merge] [game <id>]');
    expect(r.stdout).toContain('rejects <history id>');
    expect(r.stdout).toMatch(/^ {2}drop \[options\] <files\.\.\.>/m);
    expect(r.stdout).toMatch(/^ {2}3 {4}PARTIAL/m);
    const topic = await run('help', 'rejects', '--json');
    expect(JSON.parse(topic.stdout)).toMatchObject({ kind: 'help', ok: true, text: expect.stringContaining('rejects <history id>') });
  });

  /** The compiled CLI (bin/benchsight.js) as a process: what it printed and which heavy packages and sources it loaded. */
  async function loadedBy(...argv: string[]) {
    const root = path.resolve(__dirname, '../..');
    const r = await promisify(execFile)(
      process.execPath,
      ['-r', path.join(__dirname, 'support/loaded-modules.cjs'), path.join(root, 'bin/benchsight.js'), ...argv],
      {
        cwd: root,
        env: { PATH: process.env.PATH, ...env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
        timeout: 60_000,
      },
    ).catch((e: { stdout: string; stderr: string; code: number }) => e);
    return {
      stdout: r.stdout,
      loaded: JSON.parse(/LOADED (.*)/.exec(r.stderr)![1]!) as string[],
      chunks: Number(/CHUNKS (\d+)/.exec(r.stderr)![1]),
    };
  }
  const HEAVY = ['@aws-sdk', '@slack/bolt', 'node_modules/pg/', 's3rver', 'loader/generate/', 'loader/db/'];

  it('help opens no database and loads neither the AWS SDK, Bolt, pg, the generator nor the local S3 server', async () => {
    const r = await loadedBy('help');
    expect(r.stdout).toContain('load table <table>');
    // the compiled CLI ran (its chunks recorded themselves), not the TypeScript sources
    expect(r.chunks).toBeGreaterThan(0);
    for (const heavy of HEAVY) expect(r.loaded).not.toContain(heavy);
  }, 90_000);

  it.each([['counts', '--bogus'], ['--nope'], ['load', '--games', '3']])(
    'a failed argument parse (%s) opens no database and loads none of them either',
    async (...argv) => {
      const r = await loadedBy(...argv);
      expect(r.chunks).toBeGreaterThan(0);
      for (const heavy of HEAVY) expect(r.loaded).not.toContain(heavy);
    },
    90_000,
  );

  it('counts loads pg, and neither the AWS SDK, Bolt, the ETL, the generator nor s3rver', async () => {
    // (its database is unreachable here: what it loaded to ask is what counts)
    const r = await loadedBy('counts');
    expect(r.loaded).toContain('node_modules/pg/');
    for (const heavy of ['@aws-sdk', '@slack/bolt', 's3rver', 'loader/generate/', 'loader/etl/']) expect(r.loaded).not.toContain(heavy);
  }, 90_000);

  it('the check sees what a command loads: sql --url loads the database modules, etl status the ETL', async () => {
    // (the URL is printed, not opened: the modules are loaded, no connection is made)
    const r = await loadedBy('sql', '--url');
    expect(r.loaded).toContain('loader/db/');
    expect((await loadedBy('etl', 'status')).loaded).toContain('loader/etl/');
  }, 90_000);
});
