/**
 * Small synthetic export files for tests: any rows, written with every header of the
 * table (from the declaration), empty cells for what a row does not give.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tableNamed } from '../../loader/warehouse';

export type Row = Record<string, string | number | null>;

function cell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A CSV for `table`: the export's headers in order; rows give values by column name or header. */
export function csvFor(table: string, rows: Row[], opts: { headers?: string[] } = {}): string {
  const decl = tableNamed(table);
  const headers = opts.headers ?? decl.columns.map((c) => c.header);
  const lines = [headers.map(cell).join(',')];
  for (const r of rows) {
    lines.push(
      headers
        .map((h) => {
          const col = decl.columns.find((c) => c.header === h);
          return cell(r[h] ?? (col ? r[col.name] : undefined));
        })
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Writes files into a new temporary folder: { 'dim_team.csv': '...' }. */
export function folderWith(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bs-files-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

/** A tiny consistent league: 2 teams, 4 players, games 1001 and 1002 with a few events each. */
export function miniLeague() {
  const teams = [
    { index: 0, team_name: 'Ace', team_id: 'N10001', league: 'NORAD' },
    { index: 1, team_name: 'Blades, "The"', team_id: 'N10002', league: 'NORAD' },
  ];
  const players = [
    { index: 0, player_id: 'P100001', player_full_name: 'Sam Downs', birth_year: '1986.0', current_skill_rating: 6 },
    { index: 1, player_id: 'P100002', player_full_name: 'Zoë Ångström', birth_year: '1990.0', current_skill_rating: 4 },
    { index: 2, player_id: 'P100003', player_full_name: '5 – Francis Forte (G)', birth_year: '', current_skill_rating: 5 },
    { index: 3, player_id: 'P100004', player_full_name: 'Kevin White', birth_year: '1979.0', current_skill_rating: 3 },
  ];
  const schedule = [1001, 1002, 1003].map((g) => ({
    game_id: g,
    season: 20242025,
    date: '2024-09-15 00:00:00',
    game_time: '18:45:00',
    home_team_id: 'N10001',
    away_team_id: 'N10002',
    home_total_goals: 2,
    away_total_goals: 1,
    game_url: `https://example.org/event/${g}/?a=1&b=2`,
  }));
  const events = [1001, 1002].flatMap((g) =>
    [1, 2, 3].map((i) => ({
      event_key: `EV${g}${String(i).padStart(5, '0')}`,
      game_id: g,
      period: '1.0',
      event_index: `${i}.0`,
      event_type: i === 1 ? 'Faceoff' : 'Shot',
      Type: i === 1 ? 'Faceoff' : 'Shot',
      home_team_id: 'N10001',
      away_team_id: 'N10002',
      shift_key: `SH${g}00001`,
      empty_net_goal: 0,
    })),
  );
  const eventPlayers = events.map((e, i) => ({
    event_player_key: `EP${e.game_id}${String(i).padStart(5, '0')}`,
    event_key: e.event_key,
    game_id: e.game_id,
    player_id: players[i % players.length]!.player_id,
    player_role: 'event_team_player_1',
    role_number: '1.0',
    Type: e.Type,
  }));
  return { teams, players, schedule, events, eventPlayers };
}

export function miniLeagueFiles(): Record<string, string> {
  const m = miniLeague();
  return {
    'dim_team.csv': csvFor('dim_team', m.teams),
    'dim_player.csv': csvFor('dim_player', m.players),
    'dim_schedule.csv': csvFor('dim_schedule', m.schedule),
    'fact_events.csv': csvFor('fact_events', m.events),
    'fact_events_player.csv': csvFor('fact_events_player', m.eventPlayers),
  };
}
