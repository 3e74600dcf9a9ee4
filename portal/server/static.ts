/**
 * The built page (portal/ui, built by portal/ui/build.ts): index.html and its hashed
 * assets, read once into memory (tens of kB) and served with a strict Content Security
 * Policy: scripts, styles and fonts from the Portal itself only, nothing from the internet.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Env, Hono } from 'hono';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

export function securityHeaders(connect: string[] = []): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'self'",
      `connect-src 'self'${connect.length ? ` ${connect.join(' ')}` : ''}`,
      "img-src 'self' data:",
      "style-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

/** Serves `dir` (index.html at / and for the page's own paths; /assets/* cached for a year: their names carry a hash). */
export function serveUi<E extends Env>(app: Hono<E>, dir: string, connect: string[] = []): void {
  if (!existsSync(path.join(dir, 'index.html'))) throw new Error(`the Portal page is not built: ${dir}/index.html is missing`);
  const files = new Map<string, Buffer>();
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name), `${prefix}${e.name}/`);
      else files.set(`/${prefix}${e.name}`, readFileSync(path.join(d, e.name)));
    }
  };
  walk(dir, '');
  const headers = securityHeaders(connect);
  const index = files.get('/index.html')!;
  app.get('*', (c, next) => {
    const p = new URL(c.req.url).pathname;
    if (p.startsWith('/api/') || p.startsWith('/auth/')) return next();
    const body = files.get(p);
    if (body && p !== '/index.html') {
      const type = TYPES[path.extname(p)] ?? 'application/octet-stream';
      const cache = p.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
      return c.body(new Uint8Array(body), 200, { ...headers, 'content-type': type, 'cache-control': cache });
    }
    if (path.extname(p)) return c.body('not found', 404, headers);
    return c.body(new Uint8Array(index), 200, { ...headers, 'content-type': TYPES['.html']!, 'cache-control': 'no-cache' });
  });
}
