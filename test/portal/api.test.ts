/**
 * The Portal's REST API over real HTTP, against real PostgreSQL and a real local drop bucket
 * (s3rver) whose uploads reach the S3 loader: every endpoint of the design notes, every
 * role's refusals, destructive requests without and with confirmation, uploads that end
 * in the table, and a bad file whose problem details name its line, column and value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvFor, miniLeague } from '../support/fixtures';
import { form, jobEnd, startHarness, until, uploadEnd, type Client, type Harness } from './support/harness';

let h: Harness;
let viewer: Client;
let operator: Client;
let admin: Client;
const rows = async (sql: string, p: unknown[] = []) => (await h.tdb.db.query<Record<string, any>>(sql, p)).rows;
const count = async (table: string, where = 'true') => Number((await rows(`SELECT count(*) AS n FROM ${table} WHERE ${where}`))[0]!.n);

beforeAll(async () => {
  h = await startHarness();
  [viewer, operator, admin] = await Promise.all([h.signIn('vera'), h.signIn('otto'), h.signIn('ada')]);
});
afterAll(async () => {
  await h?.stop();
});

describe('sign-in', () => {
  it('refuses every API request without a session, as problem details', async () => {
    const r = await fetch(`${h.portal.url}/api/tables/counts`);
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    const p = (await r.json()) as any;
    expect(p).toMatchObject({ type: '/problems/unauthenticated', status: 401, instance: '/api/tables/counts' });
  });

  it('a sign-in link works once', async () => {
    const link = h.portal.signInLink('vera');
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(303);
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(401);
  });

  it('the session says who and which role; the cookie is HttpOnly and SameSite=Strict', async () => {
    const r = await viewer.json('/api/session');
    expect(r.body).toMatchObject({ signedIn: true, user: { id: 'vera', role: 'viewer', name: 'portal:vera' } });
    const res = await fetch(h.portal.signInLink('otto'), { redirect: 'manual' });
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly/);
    expect(res.headers.get('set-cookie')).toMatch(/SameSite=Strict/);
  });

  it('a changing request without the CSRF token, or from another origin, is refused and changes nothing', async () => {
    const noToken = await operator.fetch('/api/etl/queue', { method: 'POST', json: { game_id: 1001 }, headers: { 'x-csrf-token': '' } });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as any).type).toBe('/problems/csrf');
    const elsewhere = await operator.fetch('/api/etl/queue', { method: 'POST', json: { game_id: 1001 }, headers: { origin: 'http://evil.example' } });
    expect(elsewhere.status).toBe(403);
    expect(await count('etl_queue')).toBe(0);
  });

  it('a person with no role is refused what needs one', async () => {
    const nobody = await h.signIn('mallory');
    const r = await nobody.json('/api/tables/counts');
    expect(r.status).toBe(403);
    expect(r.body.detail).toMatch(/no BenchSight role/);
  });

  it('CORS: another origin gets no Allow-Origin; preflights from it are refused', async () => {
    const pre = await fetch(`${h.portal.url}/api/load/table`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(403);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const own = await fetch(`${h.portal.url}/api/load/table`, {
      method: 'OPTIONS',
      headers: { origin: h.portal.url, 'access-control-request-method': 'POST' },
    });
    expect(own.headers.get('access-control-allow-origin')).toBe(h.portal.url);
  });
});

describe('reads (viewers)', () => {
  it('GET /api/tables/counts, /api/health, /api/load/history, /api/etl/queue, /api/games', async () => {
    const counts = await viewer.json('/api/tables/counts');
    expect(counts.status).toBe(200);
    expect(counts.body.outcome.rows).toContainEqual({ table: 'dim_team', rows: 2 });
    const health = await viewer.json('/api/health');
    expect(health.body.outcome.health.database.reachable).toBe(true);
    expect(health.body.outcome.health.schemaVersion).toBeGreaterThan(0);
    const history = await viewer.json('/api/load/history?limit=5');
    expect(history.body.outcome.rows.length).toBeGreaterThan(0);
    const queue = await viewer.json('/api/etl/queue');
    expect(queue.status).toBe(200);
    expect(queue.body.outcome.kind).toBe('text');
    const games = await viewer.json('/api/games');
    expect(games.body.games).toContainEqual(expect.objectContaining({ gameId: 1001, date: '2024-09-15' }));
  });

  it('GET /api/etl/jobs/{id}: the job, the step it failed at, and its log', async () => {
    const [job] = await rows(
      `INSERT INTO etl_queue (operation, game_id, status, failed_step) VALUES ('process_game', 1001, 'failed', '{"index": 2, "name": "fix", "exitCode": 3}') RETURNING id::int`,
    );
    await rows(`INSERT INTO etl_job_log (job_id, seq, attempt, step, stream, line) VALUES ($1, 1, 1, 'fix', 'stderr', 'no roster for game 1001')`, [job!.id]);
    const r = await viewer.json(`/api/etl/jobs/${job!.id}`);
    expect(r.status).toBe(200);
    expect(r.body.outcome.data.job).toMatchObject({ id: job!.id, status: 'failed', failedStep: { name: 'fix', exitCode: 3 } });
    expect(r.body.outcome.data.lines).toEqual([expect.objectContaining({ step: 'fix', stream: 'stderr', line: 'no roster for game 1001' })]);
    expect(r.body.outcome.text).toContain('[fix!] no roster for game 1001');
    await rows('DELETE FROM etl_queue WHERE id = $1', [job!.id]);
  });

  it('validation errors are problem details naming the field', async () => {
    const r = await viewer.json('/api/load/history?limit=0');
    expect(r.status).toBe(400);
    expect(r.body.errors[0].path).toBe('limit');
    const bad = await operator.json('/api/load/table', { method: 'POST', json: { table: 'fact_nope' } });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/table/);
  });

  it('the OpenAPI document lists every endpoint of the design notes, generated from the schemas', async () => {
    const doc = (await (await fetch(`${h.portal.url}/api/openapi.json`)).json()) as any;
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/api/load/table',
      '/api/load/category',
      '/api/load/game',
      '/api/load/full-refresh',
      '/api/data/game/{game_id}',
      '/api/etl/queue',
      '/api/etl/run',
      '/api/etl/jobs/{id}',
      '/api/upload/csv',
      '/api/upload/bulk',
      '/api/load/history',
      '/api/tables/counts',
      '/api/health',
      '/api/jobs/{id}',
      '/api/load/history/{id}/rejects',
    ]) {
      expect(paths).toContain(p);
    }
    expect(doc.paths['/api/load/table'].post.requestBody.content['application/json'].schema.properties.operation.enum).toEqual([
      'replace',
      'append',
      'upsert',
      'merge',
    ]);
    expect(doc.components.schemas.Problem).toBeDefined();
  });
});

describe('role refusals', () => {
  it('a viewer cannot load, queue or run the ETL; the refusal is recorded with who asked', async () => {
    for (const [path, json] of [
      ['/api/load/table', { table: 'dim_team', operation: 'upsert' }],
      ['/api/load/category', { category: 'dims', operation: 'upsert' }],
      ['/api/load/game', { game_id: 1001, operation: 'upsert' }],
      ['/api/etl/queue', { game_id: 1001 }],
      ['/api/etl/run', {}],
    ] as const) {
      const r = await viewer.json(path, { method: 'POST', json });
      expect(r.status, path).toBe(403);
      expect(r.body).toMatchObject({ type: '/problems/forbidden', requiredRole: 'operator', role: 'viewer' });
    }
    const refused = await rows(`SELECT scope, source, status FROM load_history WHERE kind = 'command' AND initiated_by = 'portal:vera' ORDER BY id`);
    expect(refused.map((r) => r.scope)).toContain('load table dim_team upsert');
    expect(refused.every((r) => r.status === 'refused' && r.source === 'portal')).toBe(true);
  });

  it('an operator cannot delete, full-refresh or load with replace: they need an admin', async () => {
    for (const [method, path, json] of [
      ['DELETE', '/api/data/game/1001', undefined],
      ['POST', '/api/load/full-refresh', {}],
      ['POST', '/api/load/table', { table: 'fact_events', operation: 'replace' }],
      ['POST', '/api/load/game', { game_id: 1001 }],
    ] as const) {
      const r = await operator.json(path, { method, json });
      expect(r.status, path).toBe(403);
      expect(r.body.requiredRole).toBe('admin');
    }
    expect(await count('fact_events', 'game_id = 1001')).toBe(3);
  });

  it('a viewer cannot upload', async () => {
    const r = await viewer.json('/api/upload/csv', { method: 'POST', body: form({ operation: 'upsert' }, [{ name: 'dim_team.csv', body: 'x' }]) });
    expect(r.status).toBe(403);
  });
});

describe('loads: 202 and a job', () => {
  it('POST /api/load/table (operator, upsert) answers 202 at once; the job ends succeeded with its load', async () => {
    await rows(`DELETE FROM dim_team WHERE team_id = 'N10002'`);
    const r = await operator.json('/api/load/table', { method: 'POST', json: { table: 'dim_team', operation: 'upsert' } });
    expect(r.status).toBe(202);
    expect(r.headers.get('location')).toBe(`/api/jobs/${r.body.job.id}`);
    const job = await jobEnd(operator, r.body.job.id);
    expect(job).toMatchObject({ state: 'succeeded', by: 'portal:otto', command: 'load table dim_team upsert' });
    expect(job.load.tables[0]).toMatchObject({ table: 'dim_team', inserted: 1 });
    expect(await count('dim_team')).toBe(2);
    // The load itself is recorded as the person's.
    expect((await rows('SELECT initiated_by FROM load_history WHERE id = $1', [job.load.id]))[0]!.initiated_by).toBe('portal:otto');
  });

  it('POST /api/load/category and /api/load/game (dry run) run as jobs', async () => {
    const cat = await operator.json('/api/load/category', { method: 'POST', json: { category: 'dims', operation: 'upsert' } });
    expect((await jobEnd(operator, cat.body.job.id)).state).toBe('succeeded');
    const game = await admin.json('/api/load/game', { method: 'POST', json: { game_id: 1001, operation: 'replace', dry_run: true } });
    expect(game.status).toBe(202);
    const j = await jobEnd(admin, game.body.job.id);
    expect(j.load.dryRun).toBe(true);
  });

  it('job progress arrives as server-sent events, ending with the job', async () => {
    const r = await operator.json('/api/load/table', { method: 'POST', json: { table: 'fact_events', operation: 'upsert' } });
    const res = await operator.fetch(`/api/jobs/${r.body.job.id}/events`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(text).toMatch(/event: done/);
    const done = JSON.parse(/event: done\ndata: (.*)\n/.exec(text)![1]!);
    expect(done.state).toBe('succeeded');
  });

  it('GET /api/jobs/{id} of nothing is a 404 problem', async () => {
    const r = await viewer.json('/api/jobs/999999');
    expect(r.status).toBe(404);
    expect(r.body.type).toBe('/problems/not-found');
  });
});

describe('destructive requests need a confirmation', () => {
  it('DELETE /api/data/game/{id}: 428 with a token and nothing deleted; cancel; then confirm, once', async () => {
    const ask = await admin.json('/api/data/game/1002', { method: 'DELETE' });
    expect(ask.status).toBe(428);
    expect(ask.body).toMatchObject({ type: '/problems/confirmation-required', command: 'delete game 1002' });
    expect(await count('fact_events', 'game_id = 1002')).toBe(3);

    const cancel = await admin.json(`/api/confirmations/${ask.body.confirmation.token}`, { method: 'DELETE' });
    expect(cancel.status).toBe(200);
    const afterCancel = await admin.json(`/api/data/game/1002?confirmation=${ask.body.confirmation.token}`, { method: 'DELETE' });
    expect(afterCancel.status).toBe(409);
    expect(await count('fact_events', 'game_id = 1002')).toBe(3);

    const again = await admin.json('/api/data/game/1002', { method: 'DELETE' });
    // Another person cannot use it, nor can it confirm another command.
    expect((await operator.json(`/api/data/game/1002?confirmation=${again.body.confirmation.token}`, { method: 'DELETE' })).status).toBe(403);
    expect((await admin.json(`/api/data/game/1001?confirmation=${again.body.confirmation.token}`, { method: 'DELETE' })).status).toBe(409);
    const go = await admin.json(`/api/data/game/1002?confirmation=${again.body.confirmation.token}`, { method: 'DELETE' });
    expect(go.status).toBe(202);
    expect((await jobEnd(admin, go.body.job.id)).state).toBe('succeeded');
    expect(await count('fact_events', 'game_id = 1002')).toBe(0);
    const reuse = await admin.json(`/api/data/game/1002?confirmation=${again.body.confirmation.token}`, { method: 'DELETE' });
    expect(reuse.status).toBe(409);
    const record = await rows(`SELECT status, warnings->'confirmation'->>'state' AS state FROM load_history WHERE id = $1`, [go.body.job.id]);
    expect(record[0]).toMatchObject({ status: 'succeeded', state: 'confirmed' });
  });

  it('POST /api/load/full-refresh asks first; confirmed, it runs, and fails whole when the bucket lacks tables', async () => {
    const ask = await admin.json('/api/load/full-refresh', { method: 'POST', json: {} });
    expect(ask.status).toBe(428);
    const before = await count('dim_team');
    const go = await admin.json('/api/load/full-refresh', { method: 'POST', json: { confirmation: ask.body.confirmation.token } });
    expect(go.status).toBe(202);
    const job = await jobEnd(admin, go.body.job.id);
    // The mini league has 5 of the 12 tables: a full refresh needs them all, and changes nothing without.
    expect(job.state).toBe('failed');
    expect(job.problem).toMatchObject({ type: '/problems/load-failed' });
    expect(job.problem.detail).toMatch(/no file for fact_shifts/);
    expect(await count('dim_team')).toBe(before);
  });
});

describe('ETL and data quality', () => {
  it('POST /api/etl/queue queues (recorded), GET shows it, POST /api/etl/run runs it as a job', async () => {
    // Game 1001 came from an export, not the tracker: the ETL's own words say so.
    const q = await operator.json('/api/etl/queue', { method: 'POST', json: { game_id: 1001, priority: 7 } });
    expect(q.status).toBe(200);
    expect(q.body.outcome).toMatchObject({ ok: false, text: expect.stringMatching(/has not been received from the tracker/) });
    const status = await viewer.json('/api/etl/queue');
    expect(status.body.outcome.ok).toBe(true);
    const run = await operator.json('/api/etl/run', { method: 'POST', json: {} });
    expect(run.status).toBe(202);
    const job = await jobEnd(operator, run.body.job.id);
    expect(job.state).toBe('succeeded');
    expect(
      (await rows(`SELECT count(*) AS n FROM load_history WHERE kind = 'command' AND scope = 'etl queue 1001 priority 7' AND initiated_by = 'portal:otto'`))[0]!
        .n,
    ).toBe('1');
  });

  it('POST /api/validate runs the rules and records who asked; GET /api/quality/findings reads them', async () => {
    const v = await viewer.json('/api/validate', { method: 'POST', json: {} });
    expect(v.status).toBe(200);
    expect(Array.isArray(v.body.outcome.data)).toBe(true);
    const g = await viewer.json('/api/quality/findings?game_id=1001');
    expect(g.body.outcome.kind).toBe('text');
  });
});

describe('uploads', () => {
  it('detects the table from the name exactly as the bucket does, and says what the load needs', async () => {
    const r = await operator.json('/api/upload/detect', {
      method: 'POST',
      json: { files: [{ name: 'fact_events_2025-12-29.csv' }, { name: 'backup.csv' }], operation: 'upsert' },
    });
    expect(r.body.files[0]).toMatchObject({ table: 'fact_events', kind: 'csv' });
    expect(r.body.files[1]).toMatchObject({ table: null, kind: 'unknown' });
    expect(r.body.ok).toBe(false);
    const ok = await operator.json('/api/upload/detect', { method: 'POST', json: { files: [{ name: 'backup.csv', table: 'dim_team' }], operation: 'upsert' } });
    expect(ok.body).toMatchObject({ ok: true, destructive: false, requiredRole: 'operator' });
  });

  it('POST /api/upload/csv: a real-format file streams into the bucket, the S3 loader loads it, its rows are in the table', async () => {
    const m = miniLeague();
    const teams = [...m.teams, { index: 2, team_name: 'Comets', team_id: 'N10003', league: 'NORAD' }];
    const r = await operator.json('/api/upload/csv', {
      method: 'POST',
      body: form({ operation: 'upsert' }, [{ name: 'dim_team_2026-01-02.csv', body: csvFor('dim_team', teams) }]),
    });
    expect(r.status).toBe(202);
    expect(r.body.upload.files[0]).toMatchObject({ table: 'dim_team' });
    expect(r.body.upload.follow).toMatch(/^portal\/p[a-z0-9]+x\/op=upsert\/dim_team\.csv$/);
    const done = await uploadEnd(operator, r.body.upload.id);
    expect(done.state).toBe('loaded');
    expect(done.load.tables[0]).toMatchObject({ table: 'dim_team', inserted: 1 });
    expect((await rows(`SELECT team_name FROM dim_team WHERE team_id = 'N10003'`))[0]!.team_name).toBe('Comets');
    const rec = await rows(`SELECT status, initiated_by, source FROM load_history WHERE id = $1`, [r.body.upload.id]);
    expect(rec[0]).toMatchObject({ status: 'succeeded', initiated_by: 'portal:otto', source: 'portal' });
  });

  it('a bad file: the upload is followed to a failed load whose problem details name line, column and value; nothing changed', async () => {
    const m = miniLeague();
    const events = m.events.map((e, i) => (i === 1 ? { ...e, period: 'second' } : e));
    const before = await count('fact_events');
    const r = await operator.json('/api/upload/csv', {
      method: 'POST',
      body: form({ operation: 'upsert' }, [{ name: 'fact_events.csv', body: csvFor('fact_events', events) }]),
    });
    expect(r.status).toBe(202);
    const done = await uploadEnd(operator, r.body.upload.id);
    expect(done.state).toBe('failed');
    expect(done.problem).toMatchObject({ type: '/problems/load-failed', line: 3, column: 'period', value: 'second' });
    expect(done.problem.file).toMatch(/fact_events\.csv/);
    expect(await count('fact_events')).toBe(before);
    // The same problem from the history, where the page opens a failed load.
    const detail = await viewer.json(`/api/load/history/${done.load.id}`);
    expect(detail.body.problem).toMatchObject({ line: 3, column: 'period', value: 'second' });
  });

  it('a load that deletes rows (replace) asks before a byte is sent; the upload then carries the confirmation', async () => {
    const m = miniLeague();
    const plan = { files: [{ name: 'fact_events.csv' }], operation: 'replace', game_id: 1001 };
    // Looking asks nothing; asking gives the token.
    const look = await admin.json('/api/upload/detect', { method: 'POST', json: plan });
    expect(look.body.confirmation).toBeUndefined();
    const d = await admin.json('/api/upload/detect', { method: 'POST', json: { ...plan, ask: true } });
    expect(d.body).toMatchObject({ ok: true, destructive: true, requiredRole: 'admin' });
    expect(d.body.confirmation.token).toBeTruthy();
    const without = await admin.json('/api/upload/csv', {
      method: 'POST',
      body: form({ operation: 'replace', game_id: '1001' }, [{ name: 'fact_events.csv', body: csvFor('fact_events', m.events) }]),
    });
    expect(without.status).toBe(428);
    const r = await admin.json('/api/upload/csv', {
      method: 'POST',
      body: form({ operation: 'replace', game_id: '1001', confirmation: d.body.confirmation.token }, [
        { name: 'fact_events.csv', body: csvFor('fact_events', m.events.filter((e) => e.game_id === 1001).slice(0, 2)) },
      ]),
    });
    expect(r.status).toBe(202);
    expect(r.body.upload.follow).toMatch(/op=replace\/game=1001\/fact_events\.csv$/);
    expect((await uploadEnd(admin, r.body.upload.id)).state).toBe('loaded');
    expect(await count('fact_events', 'game_id = 1001')).toBe(2);
  });

  it('POST /api/upload/bulk: several files, one all-or-nothing request in dependency order', async () => {
    const m = miniLeague();
    const schedule = m.schedule.map((g) => ({ ...g, home_total_goals: 9 }));
    const r = await operator.json('/api/upload/bulk', {
      method: 'POST',
      body: form({ operation: 'upsert', names: 'schedule.csv\ndim_player.csv', tables: JSON.stringify({ 'schedule.csv': 'dim_schedule' }) }, [
        { name: 'schedule.csv', body: csvFor('dim_schedule', schedule) },
        { name: 'dim_player.csv', body: csvFor('dim_player', m.players) },
      ]),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body.upload.follow).toMatch(/batches\/p[a-z0-9]+x\/_manifest\.json$/);
    const done = await uploadEnd(operator, r.body.upload.id);
    expect(done.state).toBe('loaded');
    expect(done.load.tables.map((t: any) => t.table)).toEqual(['dim_player', 'dim_schedule']);
    expect((await rows('SELECT DISTINCT home_total_goals FROM dim_schedule'))[0]!.home_total_goals).toBe(9);
  });

  it('POST /api/upload/presign: the browser PUTs straight to the bucket, completes, and the loader loads it', async () => {
    const m = miniLeague();
    const body = csvFor(
      'dim_player',
      m.players.map((p) => ({ ...p, current_skill_rating: 7 })),
    );
    const r = await operator.json('/api/upload/presign', {
      method: 'POST',
      json: { files: [{ name: 'players.csv', table: 'dim_player' }], operation: 'upsert' },
    });
    expect(r.status).toBe(201);
    const f = r.body.upload.files[0];
    expect(f.url).toMatch(/X-Amz-Signature=/);
    const put = await fetch(f.url, { method: 'PUT', body, headers: { 'content-type': f.contentType } });
    expect(put.status).toBe(200);
    const done = await admin.json(r.body.upload.complete, { method: 'POST' });
    expect(done.status).toBe(404); // not the uploader's
    expect((await operator.json(r.body.upload.complete, { method: 'POST' })).status).toBe(202);
    expect((await uploadEnd(operator, r.body.upload.id)).state).toBe('loaded');
    expect((await rows('SELECT DISTINCT current_skill_rating FROM dim_player'))[0]!.current_skill_rating).toBe(7);
  });

  it('a presigned upload the browser never finishes is marked abandoned once its URLs expire; one whose file arrived is not', async () => {
    const m = miniLeague();
    // A batch: one of its two files sent, never completed (the tab was closed).
    const batch = await operator.json('/api/upload/presign', {
      method: 'POST',
      json: { files: [{ name: 'dim_player.csv' }, { name: 'dim_team.csv' }], operation: 'upsert' },
    });
    expect(batch.status).toBe(201);
    const sent = batch.body.upload.files[0];
    const body = csvFor(
      'dim_player',
      m.players.map((p) => ({ ...p, current_skill_rating: 2 })),
    );
    expect((await fetch(sent.url, { method: 'PUT', body, headers: { 'content-type': sent.contentType } })).status).toBe(200);
    // A single file sent, its "complete" never called: the loader loads it all the same.
    const single = await operator.json('/api/upload/presign', { method: 'POST', json: { files: [{ name: 'dim_team.csv' }], operation: 'upsert' } });
    const f = single.body.upload.files[0];
    expect((await fetch(f.url, { method: 'PUT', body: csvFor('dim_team', m.teams), headers: { 'content-type': f.contentType } })).status).toBe(200);
    await until('the single file to arrive', async () => (await rows('SELECT 1 FROM s3_objects WHERE key = $1', [f.key])).length > 0);
    expect((await operator.json(`/api/uploads/${batch.body.upload.id}`)).body.state).toBe('uploading');

    // The presigned URLs' 15 minutes, gone by.
    await rows(
      "UPDATE load_history SET warnings = jsonb_set(warnings, '{upload,presignedUntil}', to_jsonb((now() - interval '20 minutes')::text)) WHERE id = ANY($1::bigint[])",
      [[batch.body.upload.id, single.body.upload.id]],
    );
    const gone = await operator.json(`/api/uploads/${batch.body.upload.id}`);
    expect(gone.body.state).toBe('failed');
    expect(gone.body.problem.detail).toMatch(
      /the upload was never finished: its presigned URLs expired at .* and .*_manifest\.json never arrived, so nothing was loaded/,
    );
    expect(await rows('SELECT status FROM load_history WHERE id = $1', [batch.body.upload.id])).toEqual([{ status: 'abandoned' }]);
    expect(await rows('SELECT count(*)::int AS n FROM dim_player WHERE current_skill_rating = 2')).toEqual([{ n: 0 }]);
    expect((await operator.json(`/api/uploads/${single.body.upload.id}`)).body.state).not.toBe('failed');
    expect(await rows('SELECT status FROM load_history WHERE id = $1', [single.body.upload.id])).toEqual([{ status: 'started' }]);
  });
});

describe('recent operations', () => {
  it("a load's rejects, with line and reason", async () => {
    const m = miniLeague();
    const orphans = [
      ...m.eventPlayers,
      { event_player_key: 'EP_ORPHAN', event_key: 'EV_NOWHERE', game_id: 1001, player_id: 'P100001', player_role: 'x', role_number: '1.0' },
    ];
    const r = await operator.json('/api/upload/csv', {
      method: 'POST',
      body: form({ operation: 'upsert' }, [{ name: 'fact_events_player.csv', body: csvFor('fact_events_player', orphans) }]),
    });
    const done = await uploadEnd(operator, r.body.upload.id);
    expect(done.state).toBe('loaded');
    const rej = await viewer.json(`/api/load/history/${done.load.id}/rejects`);
    expect(rej.body.total).toBeGreaterThan(0);
    expect(rej.body.rows).toContainEqual(
      expect.objectContaining({ table: 'fact_events_player', line: 8, reason: 'orphan', detail: expect.stringMatching(/EV_NOWHERE/) }),
    );
  });

  it('GET /api/load/history/{id} of a command shows the load it ran', async () => {
    const r = await operator.json('/api/load/table', { method: 'POST', json: { table: 'dim_team', operation: 'upsert' } });
    await jobEnd(operator, r.body.job.id);
    const d = await viewer.json(`/api/load/history/${r.body.job.id}`);
    expect(d.body.kind).toBe('command');
    expect(d.body.load.tables[0].table).toBe('dim_team');
  });

  it('GET /api/changes moves when a file is dropped into the bucket by another process', async () => {
    const before = (await viewer.json('/api/changes')).body.version;
    await h.put('dim_team.csv', csvFor('dim_team', miniLeague().teams));
    await until('the change', async () => (await viewer.json('/api/changes')).body.version !== before);
    await h.loaderIdle();
  });
});
