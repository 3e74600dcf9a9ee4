/**
 * The page's way to the API: same origin, JSON in and out, the CSRF token (local cookie
 * sessions) or the Supabase access token (deployed) on every request, and problem
 * details (RFC 9457) kept whole so the page can show file, line, column and value.
 */

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  file?: string;
  table?: string;
  line?: number;
  column?: string;
  value?: string;
  hint?: string;
  confirmation?: { token: string; description: string; expiresAt: string; cancel: string };
  requiredRole?: string;
  [k: string]: unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: the page reads the API's JSON loosely; the API's shapes are in portal/server/schemas.ts
type Json = any;

export interface Answer<T = Json> {
  status: number;
  ok: boolean;
  body: T;
  problem?: Problem;
}

const auth = { csrf: '', bearer: '' };
export function setAuth(a: { csrf?: string; bearer?: string }): void {
  auth.csrf = a.csrf ?? auth.csrf;
  auth.bearer = a.bearer ?? auth.bearer;
}
export function bearer(): string {
  return auth.bearer;
}

export function headers(extra: Record<string, string> = {}, method = 'GET'): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json', ...extra };
  if (auth.bearer) h.authorization = `Bearer ${auth.bearer}`;
  if (method !== 'GET' && auth.csrf) h['x-csrf-token'] = auth.csrf;
  return h;
}

export async function api<T = Json>(path: string, o: { method?: string; json?: unknown; body?: BodyInit } = {}): Promise<Answer<T>> {
  const method = o.method ?? 'GET';
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: headers(o.json !== undefined ? { 'content-type': 'application/json' } : {}, method),
    body: o.json !== undefined ? JSON.stringify(o.json) : o.body,
  });
  const text = await res.text();
  let body: Json = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { detail: text };
  }
  const isProblem = (res.headers.get('content-type') ?? '').includes('application/problem+json');
  return { status: res.status, ok: res.ok, body, problem: isProblem ? (body as Problem) : undefined };
}

/** A problem in one line a person can act on: the detail, and where it is. */
export function problemText(p: Problem | undefined): string {
  if (!p) return '';
  return p.detail ?? p.title;
}

export const fmt = {
  int: (n: number | null | undefined) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US')),
  ms: (n: number | null | undefined) => (n === null || n === undefined ? '–' : n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(1)} s`),
  time: (s: string | null | undefined) => {
    if (!s) return '–';
    const d = new Date(s.includes('T') ? s : s.replace(' ', 'T'));
    return Number.isNaN(d.getTime()) ? s : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  },
  /** A file's size: kB below 1 MB (a small export's files are a few kB, not "0.0 MB"). */
  size: (b: number) => (b < 1e6 ? `${Math.max(1, Math.round(b / 1e3))} kB` : `${(b / 1e6).toFixed(1)} MB`),
};
