/**
 * The bot's log when its caller gives none: JSON lines on stderr (pino, loader/log.ts),
 * component `bot`, level info; a line that says something failed is a warning. The
 * Lambda adds each invocation's request id (lambda.ts); `benchsight bot` and the local
 * stack pass their own.
 */
import { createLogger, type Logger } from '../loader/log';

let logger: Logger | undefined;

export function botLog(line: string, fields: { requestId?: string } = {}): void {
  logger ??= createLogger({ service: 'benchsight-bot', stream: process.stderr });
  const child = logger.child({ component: 'bot', ...fields });
  if (/^(failed|error)\b|\bcould not\b|\bfailed\b/i.test(line)) child.warn(line);
  else child.info(line);
}
