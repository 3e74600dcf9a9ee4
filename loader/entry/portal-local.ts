/**
 * The Admin Portal on this machine (`npm start` runs it next to the bot): the Portal's app
 * (portal/server) on 127.0.0.1, its jobs run in this process with live progress, uploads
 * streamed into the local drop bucket (whose upload events reach the S3 loader in the
 * stack), and sign-in by one-time links. The person who ran `npm start` is an admin;
 * BENCHSIGHT_ROLES (the roles Slack's bot reads too) gives others theirs.
 */
import os from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';
import { LocalSignIn } from '../../portal/server/auth';
import { createPortalApp } from '../../portal/server/app';
import { portalConfigFromEnv, type PortalRoles } from '../../portal/server/config';
import { localJobRunner, type LocalJobRunner } from '../../portal/server/jobs';
import { listen, type RunningPortal } from '../../portal/server/node';
import { ensureUiBuilt } from '../../portal/ui-build';
import type { Extensions } from '../commands/execute';
import type { Database } from '../db/database';
import type { SourceOf } from './context';

export interface LocalPortalOptions {
  db: Database;
  source?: SourceOf;
  extensions?: Extensions;
  bucket?: { s3: S3Client; name: string };
  port?: number;
  env?: NodeJS.ProcessEnv;
  /** Default: BENCHSIGHT_ROLES of `env` (if set), and the OS user who started it as an admin. */
  roles?: PortalRoles;
  /** Serve the built page (default true; built first when its sources changed). */
  ui?: boolean;
  log?: (line: string) => void;
}

export interface LocalPortal {
  url: string;
  port: number;
  jobs: LocalJobRunner;
  /** A one-time sign-in link for `user` (default: the admin who started it). */
  signInLink(user?: string): string;
  stop(): Promise<void>;
}

export function localUser(): string {
  return (os.userInfo().username || 'local').replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Builds the page when its sources changed since the last build (`npm start` does it while the database starts). */
export async function prepareLocalPortal(): Promise<void> {
  await ensureUiBuilt();
}

export async function startLocalPortal(o: LocalPortalOptions): Promise<LocalPortal> {
  const log = o.log ?? (() => undefined);
  const admin = localUser();
  const config = portalConfigFromEnv(
    { ...(o.env ?? {}), PORTAL_AUTH: 'local' },
    { roles: o.roles ?? { admins: [], operators: [], viewers: [] }, uploads: 'stream' },
  );
  // Whoever started the stack owns its database: an admin, whatever the roles setting says of others.
  if (!o.roles) config.roles = { ...config.roles, admins: [...config.roles.admins, admin] };
  const signIn = new LocalSignIn();
  const jobs = localJobRunner({ db: o.db, source: o.source, extensions: o.extensions, log });
  const uiDir = o.ui === false ? undefined : await ensureUiBuilt();
  const app = createPortalApp({ config, db: o.db, source: o.source, extensions: o.extensions, jobs, bucket: o.bucket, signIn, uiDir, liveEvents: true, log });
  let server: RunningPortal;
  try {
    server = await listen(app, { port: o.port ?? 0 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !o.port) throw err;
    server = await listen(app, { port: 0 });
  }
  const url = server.url;
  return {
    url,
    port: server.port,
    jobs,
    signInLink: (user = admin) => `${url}/auth/local?token=${signIn.mintLink(user)}`,
    async stop() {
      await server.stop();
      await jobs.drain();
    },
  };
}
