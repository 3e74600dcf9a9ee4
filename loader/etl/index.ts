export { runEtl, EtlError, keptWarning, type EtlOptions, type EtlResult, type EtlTableCount, type UnresolvedPlayer } from './run-etl';
export { etlQueue, etlRun, etlStatus, etlLog, EtlCommandError, formatEtlQueue, formatEtlRun, formatEtlStatus, formatEtlLog, failedStepText } from './commands';
export type { EtlQueueResult, EtlRunResult, EtlLogResult } from './commands';
export { readPipeline, parsePipeline, pipelineFromEnv, PipelineConfigError, type Pipeline, type PipelineStep } from './pipeline-config';
export { runPipeline, PipelineStepError, type PipelineResult, type FailedStep } from './pipeline-run';
export { jobLog, formatJobLog, type JobLogLine } from './job-log';
export { etlCommandExtensions } from './command-extensions';
export { LIVE_COLUMNS, LIVE_ETL_TABLES, liveColumns, type LiveEtlTable } from './live-columns';
