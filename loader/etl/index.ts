export { runEtl, EtlError, keptWarning, type EtlOptions, type EtlResult, type EtlTableCount, type UnresolvedPlayer } from './run-etl';
export { etlQueue, etlRun, etlStatus, EtlCommandError, formatEtlQueue, formatEtlRun, formatEtlStatus } from './commands';
export type { EtlQueueResult, EtlRunResult } from './commands';
export { etlCommandExtensions } from './command-extensions';
export { LIVE_COLUMNS, LIVE_ETL_TABLES, liveColumns, type LiveEtlTable } from './live-columns';
