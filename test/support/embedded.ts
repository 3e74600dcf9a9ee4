/**
 * A private embedded PostgreSQL server (the one `npm start` runs) for a test that needs a
 * whole cluster of its own: no Supabase roles, its own settings. A throw-away folder.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useEmbedded, type EmbeddedServer } from '../../loader/db/embedded';

export interface PrivateServer {
  server: EmbeddedServer;
  dataDir: string;
  stop(): Promise<void>;
}

export async function privateServer(): Promise<PrivateServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bs-embedded-'));
  // As root the server runs as the OS user postgres, which must be able to enter the folder.
  chmodSync(dataDir, 0o755);
  const server = await useEmbedded({ dataDir, owner: 'tests', ephemeral: true });
  return {
    server,
    dataDir,
    async stop() {
      await server.release();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
