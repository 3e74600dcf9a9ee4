/**
 * What the Portal's routes work with, built by its composition roots
 * (loader/entry/portal-local.ts, loader/entry/portal-lambda.ts): the database, where a
 * command's loads read their files, the ETL and data-quality extensions of the command
 * executor, the job runner (in this process locally; the queue and the worker deployed),
 * the drop bucket for uploads, and how people sign in.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Command } from '../../loader/commands/grammar';
import type { Extensions } from '../../loader/commands/execute';
import type { Database } from '../../loader/db/database';
import type { Source } from '../../loader/engine';
import type { PortalConfig } from './config';
import type { JobProgress } from './jobs';
import type { LocalSignIn } from './auth';

/** A command accepted for a person: its load_history command row (`auditId`) is the job's id. */
export interface PortalJob {
  command: Command;
  text: string;
  /** Who asked, as the history names them (`portal:<e-mail or id>`). */
  userId: string;
  auditId: number;
}

/** Runs accepted commands after the answer: in this process (local), or on the queue's worker (deployed). */
export interface JobRunner {
  submit(job: PortalJob): Promise<void>;
  /** Live progress of a job running in this process (local only). */
  progress?(id: number): JobProgress | undefined;
  /** Progress and the end of a job, as they happen (local only: server-sent events). */
  subscribe?(id: number, listener: (p: JobProgress) => void): () => void;
  /** Cancels a job running in this process: everything rolls back, the history says cancelled. */
  cancel?(id: number): boolean;
}

export interface PortalDeps {
  config: PortalConfig;
  db: Database;
  source?: () => Promise<Source>;
  extensions?: Extensions;
  jobs: JobRunner;
  /** The drop bucket uploads go to (they load through the S3 loader, like any drop). */
  bucket?: { s3: S3Client; name: string };
  /** Local sign-in (one-time links and cookie sessions); deployed: none. */
  signIn?: LocalSignIn;
  /** The built page (index.html and its assets); none: the API only. */
  uiDir?: string;
  /** Server-sent events (local); deployed, the page polls instead. */
  liveEvents: boolean;
  log: (line: string) => void;
}
