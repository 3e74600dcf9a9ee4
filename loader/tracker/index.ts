export { ingestTrackerExport, type IngestOptions, type IngestResult } from './ingest';
export { readTrackerExport, TrackerExportError, MAX_EXPORT_BYTES, type TrackerInput } from './read-export';
export { trackerExportSchema, type TrackerExport } from './export-schema';
