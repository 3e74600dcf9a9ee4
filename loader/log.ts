/**
 * Logs of the running parts (the Lambdas, the local stack, the bot): pino, one JSON line
 * per event with its level, time, service and component, and the request id of the
 * invocation that wrote it (a child logger per Lambda invocation). For a person at the
 * local stack's terminal the same events print as `component: message` lines
 * (pino-pretty), unless LOG_FORMAT=json asks for the JSON. LOG_LEVEL sets the level
 * (default info). The core keeps its `log: (line) => void` callbacks; `lineLog` turns a
 * logger into one.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  /** `benchsight-loader`, `benchsight-stack`, ... */
  service: string;
  /** LOG_LEVEL, else info. */
  level?: string;
  /** Where the lines go (default stdout). */
  stream?: NodeJS.WritableStream;
  /** Human lines instead of JSON (the local stack on a terminal). */
  pretty?: boolean;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function levelOf(level: string | undefined): string {
  const l = level?.trim().toLowerCase();
  return l && LEVELS.includes(l) ? l : 'info';
}

export function createLogger(o: LogOptions): Logger {
  const options = { level: levelOf(o.level), base: { service: o.service }, timestamp: pino.stdTimeFunctions.isoTime };
  if (!o.pretty) return pino(options, (o.stream ?? pino.destination({ fd: 1, sync: true })) as pino.DestinationStream);
  // pino-pretty, loaded only here: `component: message`, the level named when it is not info.
  const pretty = require('pino-pretty') as typeof import('pino-pretty');
  return pino(
    options,
    pretty({
      destination: o.stream ?? 1,
      sync: true,
      colorize: false,
      hideObject: true,
      ignore: 'pid,hostname,time,level,service,component,requestId',
      messageFormat: (log: Record<string, unknown>, key: string) => {
        const level = pino.levels.labels[log.level as number];
        return `${level && level !== 'info' ? `${level.toUpperCase()} ` : ''}${log.component ? `${log.component}: ` : ''}${log[key] as string}`;
      },
    }),
  );
}

/**
 * A line callback of the core, as log events of `component`. Lines that say something
 * failed (`failed: …`, `could not …`) are warnings; the rest are info.
 */
export function lineLog(logger: Logger, component: string): (line: string) => void {
  const child = logger.child({ component });
  return (line) => (/^(failed|error)\b|\bcould not\b/i.test(line) ? child.warn(line) : child.info(line));
}
