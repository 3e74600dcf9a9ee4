import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, it } from 'vitest';
import { load, folderSource, type LoadRequest } from '../../loader/engine';
import { freshDatabase, type TestDatabase } from '../support/database';
import { csvFor, folderWith, miniLeague, miniLeagueFiles } from '../support/fixtures';

let t: TestDatabase;
beforeAll(async () => { t = await freshDatabase({ migrated: true }); });
afterAll(async () => t?.drop());

const m = miniLeague();
const teamCsv = csvFor('dim_team', m.teams);
function one(table: string, content: string | Buffer, extra: Partial<LoadRequest> = {}): LoadRequest {
  return { initiatedBy: 't', scope: { kind: 'tables', tables: [table] }, operation: 'replace', source: folderSource(folderWith({ [`${table}.csv`]: content })), ...extra };
}
const lines = teamCsv.split('\n');
const big = 'x'.repeat(10 * 1024 * 1024 - 4) + '"",\n';
const cases: [string, () => LoadRequest][] = [
  ['10MB', () => one('dim_player', csvFor('dim_player', [{ ...m.players[0]!, player_notes: big }, m.players[1]!]))],
  ['10MB unclosed', () => one('dim_player', csvFor('dim_player', [m.players[0]!]) + '9,,,,P1,,,,,,,,"' + 'x'.repeat(10 * 1024 * 1024) + '\n')],
  ['crlf all bom', () => one('dim_team', '\ufeff' + teamCsv.replace(/\n/g, '\r\n'))],
  ['1e400', () => one('fact_shifts', csvFor('fact_shifts', [{ shift_key: 'SH100100001', game_id: 1001, shift_start_sec: '1e400' }]))],
];
it('explore', async () => {
  const base = await load(t.db, { initiatedBy: 't', scope: { kind: 'tables', tables: ['dim_team', 'dim_player', 'dim_schedule', 'fact_events', 'fact_events_player'] }, operation: 'replace', source: folderSource(folderWith(miniLeagueFiles())) });
  console.log('base', base.status, base.error);
  for (const [name, mk] of cases) {
    const t0 = Date.now(); const r = await load(t.db, mk());
    const e = r.error ? { ...r.error, file: r.error.file?.replace(/.*\//, '') } : undefined;
    if (name === '10MB') console.log(await t.db.query("select length(player_notes) n, player_notes = repeat('x', 10*1024*1024-4) || '\",' || chr(10) as eq from dim_player where player_id='P100001'"));
    if (name === 'crlf all bom') console.log(await t.db.query('select * from dim_team'));
    if (name === '1e400') console.log(await t.db.query('select shift_start_sec::text = 1e400::text as eq from fact_shifts'));
    if (name.startsWith('stray')) console.log(await t.db.query('select team_name from dim_team'));
    if (['missing file','-1'].includes(name)) console.log(await t.db.query('select kind,status,error_message,error_detail from load_history where request_id=$1', [r.requestId]));
    console.log(name.padEnd(14), r.status, JSON.stringify(e)?.slice(0, 600), JSON.stringify(e)?.length, Date.now() - t0, r.tables.map((x) => `${x.table}:${x.inserted}`).join());
  }
}, 120000);
