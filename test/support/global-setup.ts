/**
 * Finds the PostgreSQL server the tests create their databases on:
 *   1. DATABASE_URL, when set (CI points it at the machine's PostgreSQL 15);
 *   2. otherwise a throw-away container through testcontainers, when Docker answers;
 *   3. otherwise the embedded PostgreSQL (the server `npm start` runs), in a throw-away
 *      folder, for the run.
 * It also builds the compiled CLI (dist/cli) when it is missing or stale.
 */
import type { TestProject } from 'vitest/node';
import { privateServer } from './embedded';

let stop: (() => Promise<void>) | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Tests that spawn bin/benchsight.js run the compiled CLI: built here once, not by each of them at once.
  const { ensureBuilt } = require('../../bin/build-cli.js') as { ensureBuilt: () => Promise<string> };
  await ensureBuilt();
  let url = process.env.DATABASE_URL;
  if (!url) url = (await container()) ?? (await embedded());
  project.provide('serverUrl', url);
  return async () => {
    await stop?.();
  };
}

async function container(): Promise<string | undefined> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
  } catch {
    return undefined; // no Docker here
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const c = await new PostgreSqlContainer('postgres:15-alpine').start();
  stop = async () => void (await c.stop());
  process.stdout.write(`tests: PostgreSQL 15 in a container (testcontainers)\n`);
  return c.getConnectionUri();
}

async function embedded(): Promise<string> {
  const own = await privateServer();
  stop = () => own.stop();
  process.stdout.write(`tests: no DATABASE_URL and no Docker: the embedded PostgreSQL ${own.server.version} on 127.0.0.1:${own.server.port}\n`);
  // The tests create their databases from the server's maintenance database.
  const u = new URL(own.server.url);
  u.pathname = '/postgres';
  return u.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string;
  }
}
