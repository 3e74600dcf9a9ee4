/**
 * Quick actions (Full Refresh, Load All CSV, Run ETL, Validate All) and Load by scope (a
 * scope, a game picked by its teams and date, the tables, the operation, Execute): each
 * is one request of the API, i.e. one command of the command language.
 */
import { useLayoutEffect, useState } from 'preact/hooks';
import { api, problemText, type Answer } from './api';
import { runWithConfirmation, type Confirmer } from './confirm';
import type { Tracked } from './jobs';

export interface ActionProps {
  confirm: Confirmer;
  track(t: Tracked): void;
  note(text: string, kind?: 'ok' | 'error'): void;
  refreshKey: number;
  /** The warehouse's tables, from the API (the one declaration). */
  tables: string[];
}

function handle(a: Answer | null, p: ActionProps, what: string): void {
  if (!a) return p.note(`${what}: cancelled, nothing was run`);
  if (a.status === 202) return p.track({ id: a.body.job.id, description: a.body.job.description });
  if (a.ok) {
    const o = a.body.outcome;
    return p.note(o?.text ?? `${what}: done`, o && !o.ok ? 'error' : 'ok');
  }
  p.note(`${what}: ${problemText(a.problem)}`, 'error');
}

export function QuickActions(p: ActionProps) {
  const run = async (what: string, path: string, json: Record<string, unknown> = {}) => handle(await runWithConfirmation(path, { method: 'POST', json }, p.confirm), p, what);
  return (
    <section class="card" aria-labelledby="quick-title">
      <h2 id="quick-title">Quick actions</h2>
      <div class="quick">
        <button type="button" class="danger-outline" onClick={() => void run('Full refresh', '/api/load/full-refresh')}>
          Full Refresh
        </button>
        <button type="button" onClick={() => void run('Load all', '/api/load/all')}>
          Load All CSV
        </button>
        <button type="button" onClick={() => void run('Run ETL', '/api/etl/run')}>
          Run ETL
        </button>
        <button type="button" onClick={() => void run('Validate all', '/api/validate')}>
          Validate All
        </button>
      </div>
    </section>
  );
}

interface Game {
  gameId: number;
  date: string | null;
  homeTeam: string | null;
  awayTeam: string | null;
}

const TABLE_CHOICES = [
  { value: 'all', label: 'All' },
  { value: 'dims', label: 'Dims only' },
  { value: 'all_facts', label: 'Facts only' },
  { value: 'core_facts', label: 'Core facts' },
  { value: 'stats_facts', label: 'Stats facts' },
  { value: 'analytics_facts', label: 'Analytics facts' },
  { value: 'table', label: 'One table…' },
];


export function gameLabel(g: Game): string {
  const teams = g.homeTeam || g.awayTeam ? `${g.homeTeam ?? '?'} vs ${g.awayTeam ?? '?'}` : 'teams unknown';
  // The date first: the list is newest first, and a narrow select cuts the end off.
  return `${g.date ?? 'no date'} · ${teams} · game ${g.gameId}`;
}

export function LoadByScope(p: ActionProps) {
  const [games, setGames] = useState<Game[]>([]);
  const [scope, setScope] = useState<'game' | 'everything'>('game');
  const [game, setGame] = useState('');
  const [tables, setTables] = useState('all');
  const [table, setTable] = useState('fact_events');
  const [operation, setOperation] = useState('replace');
  const [dry, setDry] = useState(false);
  useLayoutEffect(() => {
    void api<{ games: Game[] }>('/api/games').then((r) => {
      if (!r.ok) return;
      setGames(r.body.games);
      setGame((g) => g || String(r.body.games[0]?.gameId ?? ''));
    });
  }, [p.refreshKey]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const op = operation === 'default' ? undefined : operation;
    const gameId = scope === 'game' ? Number(game) : undefined;
    if (scope === 'game' && !gameId) return p.note('pick a game first', 'error');
    const common = { ...(op ? { operation: op } : {}), ...(dry ? { dry_run: true } : {}) };
    let path: string;
    let json: Record<string, unknown>;
    if (tables === 'table') [path, json] = ['/api/load/table', { table, ...common, ...(gameId ? { game_id: gameId } : {}) }];
    else if (tables === 'all' || (tables === 'all_facts' && gameId)) [path, json] = gameId ? ['/api/load/game', { game_id: gameId, ...common }] : ['/api/load/all', common];
    else [path, json] = ['/api/load/category', { category: tables, ...common, ...(gameId ? { game_id: gameId } : {}) }];
    handle(await runWithConfirmation(path, { method: 'POST', json }, p.confirm), p, 'Load');
  };

  return (
    <section class="card" aria-labelledby="scope-title">
      <h2 id="scope-title">Load by scope</h2>
      <form class="scope" onSubmit={(e) => void submit(e)}>
        <div class="field">
          <label for="scope-scope">Scope</label>
          <select id="scope-scope" value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value as 'game' | 'everything')}>
            <option value="game">Single game</option>
            <option value="everything">All games and dims</option>
          </select>
        </div>
        {scope === 'game' && (
          <div class="field">
            <label for="scope-game">Game</label>
            <select id="scope-game" value={game} onChange={(e) => setGame((e.target as HTMLSelectElement).value)}>
              {games.map((g) => (
                <option key={g.gameId} value={String(g.gameId)}>
                  {gameLabel(g)}
                </option>
              ))}
            </select>
          </div>
        )}
        <fieldset>
          <legend>Tables</legend>
          <div class="choices">
            {TABLE_CHOICES.map((c) => (
              <label key={c.value} class="choice">
                <input type="radio" name="tables" value={c.value} checked={tables === c.value} onChange={() => setTables(c.value)} /> {c.label}
              </label>
            ))}
          </div>
          {tables === 'table' && (
            <div class="field">
              <label for="scope-table">Table</label>
              <select id="scope-table" value={table} onChange={(e) => setTable((e.target as HTMLSelectElement).value)}>
                {p.tables.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </div>
          )}
        </fieldset>
        <fieldset>
          <legend>Operation</legend>
          <div class="choices">
            {[
              ['replace', scope === 'game' ? 'Replace game' : 'Replace'],
              ['append', 'Append'],
              ['upsert', 'Upsert'],
              ['merge', 'Merge'],
              ['default', "Each table's default"],
            ].map(([v, l]) => (
              <label key={v} class="choice">
                <input type="radio" name="operation" value={v} checked={operation === v} onChange={() => setOperation(v!)} /> {l}
              </label>
            ))}
          </div>
        </fieldset>
        <label class="choice">
          <input type="checkbox" checked={dry} onChange={(e) => setDry((e.target as HTMLInputElement).checked)} /> Dry run (show what it would do, change nothing)
        </label>
        <div>
          <button type="submit" class="primary">
            Execute Load
          </button>
        </div>
      </form>
    </section>
  );
}
