/**
 * Errors as RFC 9457 problem details (`application/problem+json`): a `type` per kind of
 * problem, a title, the status, a detail a person can act on, and — when the problem is
 * in a file — the engine's file, line, column and value as extension members.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { formatError, type LoadErrorInfo } from '../../loader/engine';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** Where a bad input is, from the engine's LoadErrorInfo. */
  file?: string;
  table?: string;
  line?: number;
  column?: string;
  value?: string;
  hint?: string;
  /** Request fields that failed validation: path and message. */
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

/** The kinds of problem this API answers with (relative URIs, documented in portal/README.md). */
export const PROBLEM = {
  badRequest: { type: '/problems/bad-request', title: 'The request is not valid' },
  unauthenticated: { type: '/problems/unauthenticated', title: 'Sign in first' },
  forbidden: { type: '/problems/forbidden', title: 'Your role does not allow this' },
  csrf: { type: '/problems/csrf', title: 'The request did not come from the Portal page' },
  notFound: { type: '/problems/not-found', title: 'Not found' },
  confirmationRequired: { type: '/problems/confirmation-required', title: 'This deletes data: confirm it first' },
  confirmationInvalid: { type: '/problems/confirmation-invalid', title: 'The confirmation cannot be used' },
  loadFailed: { type: '/problems/load-failed', title: 'The load failed; nothing was changed' },
  badFile: { type: '/problems/bad-file', title: 'The file cannot be loaded' },
  commandFailed: { type: '/problems/command-failed', title: 'The command failed' },
  unavailable: { type: '/problems/unavailable', title: 'Not available here' },
  internal: { type: '/problems/internal', title: 'Something went wrong on the server' },
} as const;

export function problemResponse(c: Context, status: ContentfulStatusCode, kind: { type: string; title: string }, more: Partial<Problem> = {}): Response {
  const body: Problem = { ...kind, status, instance: new URL(c.req.url).pathname, ...more };
  return c.body(JSON.stringify(body), status, { 'content-type': 'application/problem+json' });
}

/** A failed load as problem-detail members: the engine's words, with file, line, column, value and hint. */
export function loadProblem(e: LoadErrorInfo | null | undefined, fallback: string): Partial<Problem> {
  if (!e) return { detail: fallback };
  const out: Partial<Problem> = { detail: formatError(e) };
  for (const k of ['file', 'table', 'line', 'column', 'value', 'hint'] as const) if (e[k] !== undefined) (out as Record<string, unknown>)[k] = e[k];
  return out;
}
