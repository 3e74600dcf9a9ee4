/**
 * The running local stack leaves its addresses in <data dir>/stack.json (readable by its
 * user only): other `npx benchsight` processes find its database, bucket and bot there
 * and talk to them directly.
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface StackState {
  pid: number;
  startedAt: string;
  /** The database's connection string (with its password: this file is 0600). */
  databaseUrl: string;
  /** The database, for messages (no password). */
  database: string;
  s3Endpoint: string;
  bucket: string;
  botUrl: string;
  /** The local bot's signing secret (generated), so `benchsight slack` can sign requests. */
  signingSecret: string;
  teamId: string;
  userId: string;
}

function statePath(dataDir: string): string {
  return path.resolve(dataDir, 'stack.json');
}

export function writeState(dataDir: string, s: StackState): void {
  const file = statePath(dataDir);
  writeFileSync(file, JSON.stringify(s, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
}

export function removeState(dataDir: string, pid = process.pid): void {
  const s = readState(dataDir);
  if (s && s.pid === pid) rmSync(statePath(dataDir), { force: true });
}

function readState(dataDir: string): StackState | null {
  const file = statePath(dataDir);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StackState;
  } catch {
    return null;
  }
}

/** The state of a stack that is still running, or null (a stale file is ignored). */
export function readLiveState(dataDir: string): StackState | null {
  const s = readState(dataDir);
  if (!s) return null;
  try {
    process.kill(s.pid, 0);
    return s;
  } catch {
    return null;
  }
}
