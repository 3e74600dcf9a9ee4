/**
 * Turns a request's scope into the tables it touches, in load order, each with its
 * operation; refuses what cannot be done (unknown tables, a game for a table that
 * has no game column, a game id that is not a positive whole number).
 */
import { GROUPS, inLoadOrder, isTableName, OPERATIONS, tableNamed, tablesOf, type Operation, type TableDecl } from '../warehouse';
import { LoadError } from './errors';
import type { LoadRequest } from './request';

export interface PlannedTable {
  decl: TableDecl;
  operation: Operation;
}

export interface Plan {
  tables: PlannedTable[];
  scope: string;
  operation: string;
  gameId: number | null;
  warnings: string[];
}

export function planRequest(req: LoadRequest): Plan {
  const warnings: string[] = [];
  const gameId = req.gameId ?? null;
  if (gameId !== null && (!Number.isSafeInteger(gameId) || gameId <= 0 || gameId > 2147483647)) {
    throw new LoadError({ message: `game id ${JSON.stringify(String(gameId))} is not a positive whole number` });
  }
  if (req.operation !== undefined && !(OPERATIONS as readonly string[]).includes(req.operation)) {
    throw new LoadError({ message: `unknown operation ${JSON.stringify(req.operation)}`, hint: `operations are: ${OPERATIONS.join(', ')}` });
  }
  let decls: TableDecl[];
  let scope: string;
  const s = req.scope;
  switch (s.kind) {
    case 'tables': {
      if (!s.tables.length) throw new LoadError({ message: 'no table given' });
      const unknown = s.tables.filter((t) => !isTableName(t));
      if (unknown.length) {
        throw new LoadError({
          message: `unknown table ${unknown.map((t) => JSON.stringify(t)).join(', ')}`,
          hint: `tables are: ${tablesOf('all')
            .map((t) => t.name)
            .join(', ')}`,
        });
      }
      decls = inLoadOrder([...new Set(s.tables)].map(tableNamed));
      scope =
        decls.length === tablesOf('all').length
          ? 'all tables'
          : decls.length > 3
            ? `${decls.length} tables (${decls[0]!.name} … ${decls[decls.length - 1]!.name})`
            : `table ${decls.map((d) => d.name).join(', ')}`;
      const noGame = decls.filter((d) => !d.gameColumn);
      if (gameId !== null && noGame.length) {
        throw new LoadError({
          message: `${noGame.map((d) => d.name).join(', ')} cannot be loaded for one game: ${noGame.length > 1 ? 'they have' : 'it has'} no game column`,
        });
      }
      break;
    }
    case 'category': {
      if (!(GROUPS as readonly string[]).includes(s.category)) {
        throw new LoadError({ message: `unknown category ${JSON.stringify(s.category)}`, hint: `categories are: ${GROUPS.join(', ')}` });
      }
      decls = tablesOf(s.category);
      scope = `category ${s.category}`;
      break;
    }
    case 'all':
      decls = tablesOf('all');
      scope = 'all';
      break;
    case 'full-refresh':
      if (gameId !== null) throw new LoadError({ message: 'a full refresh covers every game: it takes no game id' });
      decls = tablesOf('all');
      scope = 'full-refresh';
      break;
  }
  if (gameId !== null && s.kind !== 'tables') {
    const skipped = decls.filter((d) => !d.gameColumn);
    if (skipped.length) warnings.push(`${skipped.map((d) => d.name).join(', ')} have no game column and are not part of a one-game load`);
    decls = decls.filter((d) => d.gameColumn);
    if (!decls.length) throw new LoadError({ message: `none of the tables of ${scope} can be loaded for one game` });
  }
  const operation: Operation | undefined = s.kind === 'full-refresh' ? 'replace' : req.operation;
  return {
    tables: decls.map((decl) => ({ decl, operation: operation ?? decl.defaultOperation })),
    scope: gameId !== null ? `${scope}, game ${gameId}` : scope,
    operation: operation ?? 'default',
    gameId,
    warnings,
  };
}
