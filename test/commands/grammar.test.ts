/**
 * The command language of the Slack bot and the CLI: what every command parses to,
 * the help, did-you-mean for typos, refusal of anything that is not a plain command,
 * and which commands need a confirmation and which role.
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS, describeCommand, helpText, isDestructive, parseCommand, requiredRole, type Command } from '../../loader/commands/grammar';
import { GROUPS, OPERATIONS, TABLE_NAMES, WAREHOUSE } from '../../loader/warehouse';

function parsed(input: string): Command {
  const r = parseCommand(input);
  if (!r.ok) throw new Error(`${JSON.stringify(input)} did not parse: ${r.error}`);
  return r.command;
}

function refusal(input: string): string {
  const r = parseCommand(input);
  expect(r.ok, `${JSON.stringify(input.slice(0, 80))} must be refused`).toBe(false);
  return r.ok ? '' : r.error;
}

describe('every command parses to the right Command', () => {
  it.each<[string, Command]>([
    ['load table fact_events', { kind: 'load', target: { type: 'table', table: 'fact_events' }, dryRun: false }],
    [
      'load table fact_events upsert game 18969',
      { kind: 'load', target: { type: 'table', table: 'fact_events' }, operation: 'upsert', gameId: 18969, dryRun: false },
    ],
    [
      'load table fact_events game 18969 upsert',
      { kind: 'load', target: { type: 'table', table: 'fact_events' }, operation: 'upsert', gameId: 18969, dryRun: false },
    ],
    ['load table dim_player replace dry-run', { kind: 'load', target: { type: 'table', table: 'dim_player' }, operation: 'replace', dryRun: true }],
    ['load table fact_events --dry-run', { kind: 'load', target: { type: 'table', table: 'fact_events' }, dryRun: true }],
    [
      'load category stats_facts replace game 18969',
      { kind: 'load', target: { type: 'category', category: 'stats_facts' }, operation: 'replace', gameId: 18969, dryRun: false },
    ],
    ['load category dims', { kind: 'load', target: { type: 'category', category: 'dims' }, dryRun: false }],
    ['load game 18969', { kind: 'load', target: { type: 'game' }, gameId: 18969, dryRun: false }],
    ['load game 18969 replace', { kind: 'load', target: { type: 'game' }, operation: 'replace', gameId: 18969, dryRun: false }],
    ['load all', { kind: 'load', target: { type: 'all' }, dryRun: false }],
    ['load all upsert', { kind: 'load', target: { type: 'all' }, operation: 'upsert', dryRun: false }],
    ['load all replace dry-run', { kind: 'load', target: { type: 'all' }, operation: 'replace', dryRun: true }],
    ['full-refresh', { kind: 'full-refresh', dryRun: false }],
    ['full-refresh dry-run', { kind: 'full-refresh', dryRun: true }],
    ['delete game 18969', { kind: 'delete-game', gameId: 18969, dryRun: false }],
    ['delete game 18969 dry-run', { kind: 'delete-game', gameId: 18969, dryRun: true }],
    ['etl queue 18969', { kind: 'etl-queue', gameId: 18969 }],
    ['etl queue 18969 priority 10', { kind: 'etl-queue', gameId: 18969, priority: 10 }],
    ['etl run', { kind: 'etl-run' }],
    ['etl run 5', { kind: 'etl-run', queueId: 5 }],
    ['etl status', { kind: 'etl-status' }],
    ['etl log 12', { kind: 'etl-log', jobId: 12 }],
    ['etl log 12 tail 50', { kind: 'etl-log', jobId: 12, tail: 50 }],
    ['history', { kind: 'history' }],
    ['history fact_events', { kind: 'history', table: 'fact_events' }],
    ['history limit 5', { kind: 'history', limit: 5 }],
    ['history fact_events limit 5', { kind: 'history', table: 'fact_events', limit: 5 }],
    ['history limit 5 fact_events', { kind: 'history', table: 'fact_events', limit: 5 }],
    ['counts', { kind: 'counts' }],
    ['validate', { kind: 'validate' }],
    ['validate game 18969', { kind: 'validate', gameId: 18969 }],
    ['health', { kind: 'health' }],
    ['help', { kind: 'help' }],
    ['help load', { kind: 'help', topic: 'load' }],
    ['', { kind: 'help' }],
    ['/benchsight load game 18969 replace', { kind: 'load', target: { type: 'game' }, operation: 'replace', gameId: 18969, dryRun: false }],
    ['  LOAD   Table\tFACT_EVENTS  Upsert ', { kind: 'load', target: { type: 'table', table: 'fact_events' }, operation: 'upsert', dryRun: false }],
  ])('%j', (input, command) => {
    expect(parsed(input)).toEqual(command);
  });

  it('every table, category and operation of the declaration is accepted', () => {
    for (const table of TABLE_NAMES) expect(parsed(`load table ${table}`)).toMatchObject({ target: { type: 'table', table } });
    for (const category of GROUPS) expect(parsed(`load category ${category}`)).toMatchObject({ target: { type: 'category', category } });
    for (const operation of OPERATIONS) expect(parsed(`load all ${operation}`)).toMatchObject({ operation });
    for (const table of TABLE_NAMES) expect(parsed(`history ${table}`)).toEqual({ kind: 'history', table });
  });

  it.each(COMMANDS.map((c) => [c.example, c] as const))('the example %j parses, and needs the role the table lists', (example, c) => {
    const command = parsed(example);
    expect(command.kind.startsWith(c.word === 'delete' ? 'delete-game' : c.word)).toBe(true);
    expect(requiredRole(command)).toBe(c.role);
  });

  it.each([
    ['load', /expected what to load/],
    ['load table', /expected a table name/],
    ['load game', /expected the game id/],
    ['load game 0', /gameId/],
    ['load game -1', /whole number/],
    ['load game 4294967296', /the game id 4294967296 is too large/],
    ['load all game 5', /"load all" covers every game; for one game, use "load game <id>"/],
    ['delete', /expected "game"/],
    ['delete game', /expected the game id/],
    ['delete team 5', /unknown thing to delete "team"/],
    ['etl', /expected queue, run, status or log/],
    ['etl queue 18969 priority 200', /priority/],
    ['history fact_events limit 500', /limit/],
    ['history fact_events fact_shifts', /history takes a table and "limit <n>"/],
    ['counts extra', /unexpected "extra" at the end/],
    ['load table fact_events upsert replace', /two operations given \("upsert" and "replace"\)/],
  ])('%j is refused: %s', (input, message) => {
    expect(refusal(input)).toMatch(message);
  });
});

describe('help', () => {
  it('lists every command with its syntax and example, every table, category and operation', () => {
    const text = helpText();
    for (const c of COMMANDS) {
      expect(text).toContain(c.syntax);
      expect(text).toContain(c.does);
      expect(text).toContain(`e.g. ${c.example}`);
    }
    for (const name of [...TABLE_NAMES, ...GROUPS, ...OPERATIONS]) expect(text).toContain(name);
    expect(text).toMatch(/dry-run/);
  });

  it('on one command lists only that command', () => {
    const text = helpText('load');
    for (const c of COMMANDS.filter((x) => x.word === 'load')) expect(text).toContain(c.syntax);
    expect(text).not.toContain('delete game <id>');
  });

  it('on a mistyped command suggests the right one', () => {
    expect(helpText('lod')).toMatch(/no command "lod"; did you mean "load"\?/);
  });
});

describe('did you mean', () => {
  it.each([
    ['lod', 'load'],
    ['hepl', 'help'],
    ['histroy', 'history'],
    ['delte game 18969', 'delete'],
    ['load tabel fact_events', 'table'],
    ['load table fact_evnts', 'fact_events'],
    ['load table dim_palyer', 'dim_player'],
    ['load category stat_facts', 'stats_facts'],
    ['load table fact_events replce', 'replace'],
    ['load all upsret', 'upsert'],
    ['etl stauts', 'status'],
  ])('%j → did you mean %j?', (input, meant) => {
    expect(refusal(input)).toContain(`did you mean "${meant}"?`);
  });

  it('suggests nothing for a word that is nothing like a command', () => {
    const error = refusal('xyzzy');
    expect(error).toMatch(/unknown command "xyzzy"/);
    expect(error).not.toMatch(/did you mean/);
  });

  // A word that is right but in the wrong place must not be "corrected" into itself.
  it.each([
    ['load all game 5', 'game'],
    ['load table fact_events upsert upsert', 'upsert'],
    ['load game 5 game 6', 'game'],
  ])('%j does not suggest %j (the word itself)', (input, word) => {
    expect(refusal(input)).not.toContain(`did you mean "${word}"`);
  });
});

describe('anything that is not a plain command is refused with a helpful message', () => {
  it.each([
    ['load table fact_events; drop table dim_player', /";" in "fact_events;" is not part of the command language.*try `help`/],
    ['load game 1 or 1=1', /"=" in "1=1" is not part of the command language/],
    ["load game 18969'", /"'" in "18969'" is not part of the command language/],
    ['$(rm -rf /)', /"\$" in "\$\(rm" is not part of the command language/],
    ['load table `whoami`', /"`" in "`whoami`" is not part of the command language/],
    ['load game 18969 && rm -rf /', /"&" in "&&" is not part of the command language/],
    ['load table fact_events|cat /etc/passwd', /"\|" in "fact_events\|cat" is not part of the command language/],
    ['load game 18969\u0000', /not part of the command language/],
    ['load game 1 or 1', /unexpected "or"; .*a load takes an operation/],
    ['load game 18969 -- comment', /unexpected "--"; .*a load takes an operation/],
  ])('%j', (input, message) => {
    expect(refusal(input)).toMatch(message);
  });

  it.each([
    ['l\u043Ead game 18969', '\u043E', 'U+043E'], // Cyrillic о
    ['lo\u0430d game 18969', '\u0430', 'U+0430'], // Cyrillic а
    ['load game \uFF11\uFF18\uFF19\uFF16\uFF19', '\uFF11', 'U+FF11'], // full-width digits
    ['load\u200Btable fact_events', '\u200B', 'U+200B'], // zero-width space
    ['load table fact_\u0435vents', '\u0435', 'U+0435'], // Cyrillic е
  ])('the look-alike in %j is named', (input, char, code) => {
    const error = refusal(input);
    expect(error).toContain(JSON.stringify(char));
    expect(error).toContain(code);
    expect(error).toMatch(/plain ASCII/);
  });

  it.each([
    ['one very long word', `load ${'a'.repeat(100_000)}`],
    ['very many words', `counts ${'x '.repeat(50_000)}`],
    ['a very long number', `load game ${'9'.repeat(100_000)}`],
  ])('very long input (%s) is refused quickly with a short message', (_label, input) => {
    const started = Date.now();
    const error = refusal(input);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error.length, `the message is ${error.length} characters`).toBeLessThan(300);
  });
});

describe('confirmation and roles', () => {
  // Every command that deletes rows it does not put back asks first and needs an admin:
  // replace and merge of any scope, full-refresh, delete game, and a load with no
  // operation whose tables default to replace (stats and analytics facts).
  it.each([
    ['full-refresh', true],
    ['delete game 18969', true],
    ['load all replace', true],
    ['load all merge', true],
    ['load all', true],
    ['load all upsert', false],
    ['load all append', false],
    ['load table fact_events replace', true],
    ['load table fact_events merge game 18969', true],
    ['load table dim_team replace', true],
    ['load table fact_events upsert', false],
    ['load table fact_events', false],
    ['load table dim_team', false],
    ['load table fact_player_game_stats', true],
    ['load table fact_h2h game 18969', true],
    ['load table fact_player_game_stats upsert', false],
    ['load category all_facts replace', true],
    ['load category dims merge', true],
    ['load category stats_facts', true],
    ['load category analytics_facts', true],
    ['load category all_facts', true],
    ['load category core_facts', false],
    ['load category dims', false],
    ['load category all_facts upsert', false],
    ['load game 18969 replace', true],
    ['load game 18969 merge', true],
    ['load game 18969', true],
    ['load game 18969 upsert', false],
    ['counts', false],
    ['etl run', false],
    // A dry run changes nothing, so it needs no confirmation, whatever the command.
    ['load all replace dry-run', false],
    ['load category all_facts replace dry-run', false],
    ['load game 18969 dry-run', false],
    ['full-refresh dry-run', false],
    ['delete game 18969 dry-run', false],
  ])('isDestructive(%j) is %s', (input, destructive) => {
    expect(isDestructive(parsed(input))).toBe(destructive);
  });

  it.each([
    ['full-refresh', 'admin'],
    ['delete game 18969', 'admin'],
    ['load all replace', 'admin'],
    ['load all', 'admin'],
    ['load all upsert', 'operator'],
    ['load table fact_events replace game 18969', 'admin'],
    ['load table fact_events merge', 'admin'],
    ['load table fact_events upsert game 18969', 'operator'],
    ['load table fact_wowy', 'admin'],
    ['load category dims', 'operator'],
    ['load category all_facts replace', 'admin'],
    ['load game 18969 replace', 'admin'],
    ['load game 18969', 'admin'],
    ['load game 18969 upsert', 'operator'],
    // Planning a destructive command is for those who may run it: same role, no confirmation.
    ['load all replace dry-run', 'admin'],
    ['delete game 18969 dry-run', 'admin'],
    ['etl queue 18969', 'operator'],
    ['etl run', 'operator'],
    ['etl status', 'viewer'],
    ['etl log 12', 'viewer'],
    ['history', 'viewer'],
    ['counts', 'viewer'],
    ['validate game 18969', 'viewer'],
    ['health', 'viewer'],
    ['help', 'viewer'],
  ])('requiredRole(%j) is %s', (input, role) => {
    expect(requiredRole(parsed(input))).toBe(role);
  });

  it('the help says which commands ask first, with the tables whose default operation replaces', () => {
    const text = helpText();
    const asks = text.split('\n').find((l) => l.startsWith('asks for confirmation'));
    expect(asks, text).toBeDefined();
    for (const words of ['full-refresh', 'delete game', 'replace', 'merge', 'load game <id>', 'load all']) expect(asks).toContain(words);
    const replacing = WAREHOUSE.filter((t) => t.defaultOperation === 'replace').map((t) => t.name);
    expect(replacing).toEqual(expect.arrayContaining(['fact_player_game_stats', 'fact_h2h', 'fact_wowy']));
    for (const table of replacing) expect(asks).toContain(table);
    expect(asks).toContain('dry-run');
    expect(helpText('load')).toContain(asks!);
  });
});

describe('describeCommand', () => {
  it.each([
    ['load game 18969 replace', 'load of game 18969 (replace)'],
    ['load table fact_events upsert game 18969', 'load of table fact_events, game 18969 (upsert)'],
    ['load table fact_events', 'load of table fact_events (default operations)'],
    ['load category stats_facts replace dry-run', 'load of category stats_facts (replace, dry run)'],
    ['load all replace', 'load of all tables (replace)'],
    ['full-refresh', 'full refresh of every table'],
    ['full-refresh dry-run', 'full refresh of every table, dry run'],
    ['delete game 18969', 'delete of game 18969'],
    ['delete game 18969 dry-run', 'delete of game 18969, dry run'],
    ['etl queue 18969 priority 10', 'ETL of game 18969 (priority 10)'],
    ['etl queue 18969', 'ETL of game 18969'],
    ['etl run', 'queued ETL jobs'],
    ['etl run 7', 'ETL job 7'],
    ['etl status', 'ETL queue status'],
    ['etl log 12 tail 5', 'log of ETL job 12'],
    ['history', 'history'],
    ['history fact_events', 'history of fact_events'],
    ['validate', 'validation'],
    ['validate game 18969', 'validation of game 18969'],
    ['counts', 'counts'],
    ['health', 'health'],
  ])('%j → %j', (input, text) => {
    expect(describeCommand(parsed(input))).toBe(text);
  });
});
