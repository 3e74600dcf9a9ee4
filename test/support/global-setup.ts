/**
 * Finds the PostgreSQL server the tests create their databases on:
 *   1. DATABASE_URL, when set (CI points it at the local server);
 *   2. otherwise a throw-away container through testcontainers, when Docker answers;
 *   3. otherwise a failure that says how to provide one.
 */
import type { TestProject } from 'vitest/node';

let stop: (() => Promise<void>) | undefined;

export default async function setup(project: TestProject): Promise<void> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    try {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer('postgres:15-alpine').start();
      url = container.getConnectionUri();
      stop = async () => void (await container.stop());
    } catch (err) {
      throw new Error(
        'The tests need a PostgreSQL server where they may create databases.\n' +
          '  Set DATABASE_URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm test\n' +
          `  or start Docker so that testcontainers can run one (it said: ${(err as Error).message.split('\n')[0]}).`,
      );
    }
  }
  project.provide('serverUrl', url);
}

export async function teardown(): Promise<void> {
  await stop?.();
}

declare module 'vitest' {
  export interface ProvidedContext {
    serverUrl: string;
  }
}
