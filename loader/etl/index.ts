export { runEtl, EtlError, keptWarning, type EtlOptions, type EtlResult, type EtlTableCount, type UnresolvedPlayer } from './run-etl';
export { etlQueue, etlRun, etlStatus, EtlCommandError, formatEtlQueue, formatEtlRun, formatEtlStatus } from './commands';
export type { EtlQueueResult, EtlRunResult } from './commands';
export { etlCommandExtensions } from './command-extensions';
