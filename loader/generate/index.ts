/**
 * Synthetic BenchSight exports in exactly the real export's format (see README.md).
 */
export {
  DEFAULT_FIRST_GAME_ID,
  DEFAULT_SEED,
  GenerateError,
  generateExport,
  MAX_GAMES,
  unplayedGamesFor,
  type GeneratedFile,
  type GenerateOptions,
  type GenerateProgress,
  type GenerateResult,
} from './export';
export { FIRST_EVENT_INDEX, GAME_KEY_PREFIX, gameKeyPattern, PLAYER_ID_PATTERN, TEAM_ID_PATTERN, type GameKeyTable } from './keys';
export type { InjectedQuirks } from './quirks';
export { floatWrittenIntegers, styleOf, type ValueStyle } from './value-style';
