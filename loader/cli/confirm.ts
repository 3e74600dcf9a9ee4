/** Asking before a command that deletes rows, and cancelling a running one with Ctrl-C. */
import { createInterface } from 'node:readline/promises';
import { describeCommand, type Command } from '../commands/grammar';
import type { Io } from './io';

/** Asks before a destructive command; without a terminal, --yes is the only way. */
export async function confirm(command: Command, io: Io): Promise<boolean> {
  if (!io.stdin.isTTY) {
    io.stderr.write(`benchsight: ${describeCommand(command)} destroys data: add --yes to confirm\n`);
    return false;
  }
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  const answer = await rl.question(`${describeCommand(command)} destroys data. Type "yes" to go on: `);
  rl.close();
  if (answer.trim().toLowerCase() === 'yes') return true;
  io.stderr.write('cancelled; nothing changed\n');
  return false;
}

/** Aborts on the first Ctrl-C / SIGTERM (the load rolls back and says so); the second exits at once. */
export function cancelOnSignals(io: Io): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const on = () => {
    if (ac.signal.aborted) process.exit(130);
    io.stderr.write('\ncancelling: rolling back (Ctrl-C again to quit at once) ...\n');
    ac.abort();
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: ac.signal,
    dispose() {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}
