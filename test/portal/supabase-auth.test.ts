/**
 * Deployed sign-in: Supabase Auth access tokens over real HTTP, verified with jose —
 * against the project's JWKS (served here by a local server at the path Supabase uses)
 * and with a legacy shared secret — and the roles given by e-mail or user id.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandExtensions } from '../../loader/entry/context';
import { createPortalApp } from '../../portal/server/app';
import type { PortalConfig } from '../../portal/server/config';
import { localJobRunner } from '../../portal/server/jobs';
import { listen, type RunningPortal } from '../../portal/server/node';
import { freshDatabase, type TestDatabase } from '../support/database';

const SECRET = 'a-test-secret-of-the-supabase-project-0123456789';
const VIERA = '0b8e6a43-7a7c-4b5e-9a43-6f1d2b3c4d5e';
let tdb: TestDatabase;
let jwks: http.Server;
let supabaseUrl: string;
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
const portals: RunningPortal[] = [];

async function portal(auth: PortalConfig['auth']): Promise<string> {
  const config: PortalConfig = { auth, roles: { admins: ['ada@league.example'], operators: [], viewers: [VIERA] }, uploads: 'presigned', confirmTtlMs: 60_000 };
  const jobs = localJobRunner({ db: tdb.db });
  const p = await listen(createPortalApp({ config, db: tdb.db, jobs, extensions: commandExtensions(tdb.db), liveEvents: false, log: () => undefined }));
  portals.push(p);
  return p.url;
}

const token = (o: { sub: string; email?: string; iss?: string; aud?: string; exp?: string }, key: 'secret' | 'es256' = 'secret') => {
  const jwt = new SignJWT({ email: o.email, role: 'authenticated' })
    .setProtectedHeader(key === 'secret' ? { alg: 'HS256' } : { alg: 'ES256', kid: 'k1' })
    .setSubject(o.sub)
    .setIssuer(o.iss ?? `${supabaseUrl}/auth/v1`)
    .setAudience(o.aud ?? 'authenticated')
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '1h');
  return key === 'secret' ? jwt.sign(new TextEncoder().encode(SECRET)) : jwt.sign(keys.privateKey);
};

beforeAll(async () => {
  tdb = await freshDatabase({ migrated: true });
  keys = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  jwks = http.createServer((req, res) => {
    if (req.url === '/auth/v1/.well-known/jwks.json')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  supabaseUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const p of portals) await p.stop();
  await new Promise((r) => jwks?.close(r));
  await tdb?.drop();
});

describe('Supabase Auth tokens', () => {
  it('with the project secret: a viewer by user id reads; an admin by e-mail; refusals by role', async () => {
    const url = await portal({ kind: 'supabase', url: supabaseUrl, jwtSecret: SECRET });
    const get = async (p: string, t?: string, init: RequestInit = {}) =>
      fetch(`${url}${p}`, {
        ...init,
        headers: { ...(t ? { authorization: `Bearer ${t}` } : {}), 'content-type': 'application/json', ...(init.headers ?? {}) },
      });
    expect((await get('/api/tables/counts')).status).toBe(401);
    const viewer = await token({ sub: VIERA, email: 'viera@league.example' });
    expect((await get('/api/tables/counts', viewer)).status).toBe(200);
    const s = (await (await get('/api/session', viewer)).json()) as any;
    expect(s.user).toMatchObject({ id: VIERA, role: 'viewer', name: 'portal:viera@league.example' });
    const refused = await get('/api/etl/queue', viewer, { method: 'POST', body: JSON.stringify({ game_id: 5 }) });
    expect(refused.status).toBe(403);
    // No cookies, so no CSRF token is needed: the bearer token cannot ride along cross-site.
    const admin = await token({ sub: '11111111-2222-4333-8444-555555555555', email: 'ADA@league.example' });
    const ask = await get('/api/data/game/5', admin, { method: 'DELETE' });
    expect(ask.status).toBe(428);
    const stranger = await token({ sub: '99999999-2222-4333-8444-555555555555', email: 'eve@elsewhere.example' });
    expect((await get('/api/tables/counts', stranger)).status).toBe(403);
  });

  it('refuses a token signed with another secret, for another project, for another audience, or expired', async () => {
    const url = await portal({ kind: 'supabase', url: supabaseUrl, jwtSecret: SECRET });
    const forged = await new SignJWT({ email: 'ada@league.example' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setIssuer(`${supabaseUrl}/auth/v1`)
      .setAudience('authenticated')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-project-secret-0123456789'));
    for (const t of [
      forged,
      await token({ sub: VIERA, iss: 'https://other.supabase.co/auth/v1' }),
      await token({ sub: VIERA, aud: 'anon' }),
      await token({ sub: VIERA, exp: '-1m' }),
    ]) {
      const r = await fetch(`${url}/api/tables/counts`, { headers: { authorization: `Bearer ${t}` } });
      expect(r.status).toBe(401);
      expect(((await r.json()) as any).type).toBe('/problems/unauthenticated');
    }
  });

  it("with the project's JWKS (asymmetric signing keys)", async () => {
    const url = await portal({ kind: 'supabase', url: supabaseUrl });
    const ok = await fetch(`${url}/api/tables/counts`, { headers: { authorization: `Bearer ${await token({ sub: VIERA }, 'es256')}` } });
    expect(ok.status).toBe(200);
    const hs = await fetch(`${url}/api/tables/counts`, { headers: { authorization: `Bearer ${await token({ sub: VIERA })}` } });
    expect(hs.status).toBe(401);
  });
});
