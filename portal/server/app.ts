/**
 * The Admin Portal's HTTP app (Hono), the same for the local server and the Lambda: the
 * REST API of the design notes, each endpoint one command of the command language
 * (commands.ts) or one read of what the commands did; uploads as drops (uploads.ts);
 * jobs, their live progress and the status board's change feed; sign-in (auth.ts); the
 * OpenAPI document generated from the zod schemas; and the built page (static.ts).
 */
import { createRoute, OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context, Handler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { commandRecord, loadDetail, rejectsOf, scheduledGames } from '../../loader/commands/reads';
import { OPERATIONS, TABLE_NAMES } from '../../loader/warehouse';
import { authenticate, SESSION_COOKIE, type PortalEnv } from './auth';
import { changeFeed, activityVersion } from './changes';
import { cancelConfirmation, runCommand } from './commands';
import type { PortalDeps } from './deps';
import { loadProblem, PROBLEM, problemResponse } from './problems';
import * as S from './schemas';
import { securityHeaders, serveUi } from './static';
import { admitUpload, completeUpload, detect, planUpload, presignUpload, streamUpload, uploadStatus } from './uploads';

/** Paths anyone may read: the API's description, whether one is signed in, how to sign in. */
const PUBLIC = new Set(['/api/openapi.json', '/api/session', '/api/config']);

const words = (...parts: (string | number | undefined | false)[]) => parts.filter((p) => p !== undefined && p !== false && p !== '').join(' ');

export function createPortalApp(deps: PortalDeps): OpenAPIHono<PortalEnv> {
  const app = new OpenAPIHono<PortalEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        return problemResponse(c, 400, PROBLEM.badRequest, {
          detail: result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
          errors: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        });
      }
    },
  });
  const feed = deps.liveEvents ? changeFeed(deps.db, 1000, deps.log) : undefined;
  const { config } = deps;

  app.onError((err, c) => {
    deps.log(`portal: ${c.req.method} ${new URL(c.req.url).pathname}: ${err.stack ?? err.message}`);
    return problemResponse(c, 500, PROBLEM.internal, { detail: err.message });
  });
  app.notFound((c) => problemResponse(c, 404, PROBLEM.notFound, { detail: `${c.req.method} ${new URL(c.req.url).pathname} is not part of the API` }));

  // CORS: the API answers its own origin only (the page is served from it); no other origin gets an Allow-Origin.
  app.use('/api/*', async (c, next) => {
    const origin = c.req.header('origin');
    const own = config.origin ?? new URL(c.req.url).origin;
    if (c.req.method === 'OPTIONS') {
      if (origin !== own) return c.body(null, 403);
      return c.body(null, 204, {
        'access-control-allow-origin': own,
        'access-control-allow-methods': 'GET, POST, DELETE',
        'access-control-allow-headers': 'authorization, content-type, x-csrf-token',
        'access-control-max-age': '600',
        vary: 'origin',
      });
    }
    await next();
    if (origin === own) c.header('access-control-allow-origin', own);
    c.header('vary', 'origin');
    c.header('cache-control', 'no-store');
    for (const [k, v] of Object.entries(securityHeaders())) if (!c.res.headers.has(k)) c.header(k, v);
  });
  const auth = authenticate({ auth: config.auth, roles: config.roles, signIn: deps.signIn, origin: config.origin });
  app.use('/api/*', (c, next) => (PUBLIC.has(new URL(c.req.url).pathname) && c.req.method === 'GET' ? next() : auth(c, next)));

  app.openAPIRegistry.registerComponent('securitySchemes', 'supabase', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Supabase Auth access token (deployed)',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description: 'local: the cookie the one-time sign-in link sets; changing requests also send x-csrf-token',
  });
  const security: Record<string, string[]>[] = [{ supabase: [] }, { session: [] }];

  /** Registers a documented route; the handler answers with any Response (problems included). */
  const route = <R extends RouteConfig>(r: R, handler: (c: Context<PortalEnv>) => Promise<Response> | Response) => {
    const responses = {
      ...r.responses,
      400: S.problem('the request is not valid'),
      401: S.problem('not signed in'),
      403: S.problem('the role does not allow it (or no CSRF token)'),
    };
    app.openapi(createRoute({ security, ...r, responses }), handler as unknown as Handler);
  };
  const body = <T>(c: Context<PortalEnv>) => c.req.valid('json' as never) as T;
  const params = <T>(c: Context<PortalEnv>) => c.req.valid('param' as never) as T;
  const query = <T>(c: Context<PortalEnv>) => c.req.valid('query' as never) as T;
  const jsonBody = <T extends import('zod').ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
  const accepted = { 202: S.json(S.AcceptedSchema, 'accepted: the job runs; follow it at /api/jobs/{id}'), 428: S.problem('deletes data: confirm first') };
  const dry = (d: boolean | undefined) => (d ? 'dry-run' : undefined);

  // ── Loads: 202 + job; destructive ones answer 428 with a confirmation token first ──
  route(
    {
      method: 'post',
      path: '/api/load/table',
      tags: ['loads'],
      summary: 'Load one table from the latest export',
      request: jsonBody(S.LoadTableBody),
      responses: accepted,
    },
    (c) => {
      const b = body<import('zod').infer<typeof S.LoadTableBody>>(c);
      return runCommand(c, deps, {
        text: words('load table', b.table, b.operation, b.game_id !== undefined && `game ${b.game_id}`, dry(b.dry_run)),
        confirmation: b.confirmation,
      });
    },
  );
  route(
    {
      method: 'post',
      path: '/api/load/category',
      tags: ['loads'],
      summary: 'Load a category of tables in dependency order',
      request: jsonBody(S.LoadCategoryBody),
      responses: accepted,
    },
    (c) => {
      const b = body<import('zod').infer<typeof S.LoadCategoryBody>>(c);
      return runCommand(c, deps, {
        text: words('load category', b.category, b.operation, b.game_id !== undefined && `game ${b.game_id}`, dry(b.dry_run)),
        confirmation: b.confirmation,
      });
    },
  );
  route(
    {
      method: 'post',
      path: '/api/load/game',
      tags: ['loads'],
      summary: "Load every fact table, that game's rows only",
      request: jsonBody(S.LoadGameBody),
      responses: accepted,
    },
    (c) => {
      const b = body<import('zod').infer<typeof S.LoadGameBody>>(c);
      return runCommand(c, deps, { text: words('load game', b.game_id, b.operation, dry(b.dry_run)), confirmation: b.confirmation });
    },
  );
  route(
    {
      method: 'post',
      path: '/api/load/all',
      tags: ['loads'],
      summary: 'Load every table in dependency order (Load All CSV)',
      request: jsonBody(S.LoadAllBody),
      responses: accepted,
    },
    (c) => {
      const b = body<import('zod').infer<typeof S.LoadAllBody>>(c);
      return runCommand(c, deps, { text: words('load all', b.operation, dry(b.dry_run)), confirmation: b.confirmation });
    },
  );
  route(
    {
      method: 'post',
      path: '/api/load/full-refresh',
      tags: ['loads'],
      summary: 'Empty every table and reload everything (admins; asks first)',
      request: jsonBody(S.FullRefreshBody),
      responses: accepted,
    },
    (c) => {
      const b = body<import('zod').infer<typeof S.FullRefreshBody>>(c);
      return runCommand(c, deps, { text: words('full-refresh', dry(b.dry_run)), confirmation: b.confirmation });
    },
  );
  route(
    {
      method: 'delete',
      path: '/api/data/game/{game_id}',
      tags: ['loads'],
      summary: "Delete one game's rows from every fact table (admins; asks first)",
      request: { params: S.DeleteGameParams, query: S.DeleteGameQuery },
      responses: accepted,
    },
    (c) => {
      const p = params<{ game_id: number }>(c);
      const q = query<{ dry_run?: string; confirmation?: string }>(c);
      return runCommand(c, deps, { text: words('delete game', p.game_id, q.dry_run === 'true' && 'dry-run'), confirmation: q.confirmation });
    },
  );
  route(
    {
      method: 'delete',
      path: '/api/confirmations/{token}',
      tags: ['loads'],
      summary: 'Cancel a pending confirmation: nothing runs, the history says refused',
      request: { params: S.TokenParams },
      responses: { 200: S.json(S.LooseSchema, 'cancelled'), 409: S.problem('nothing to cancel') },
    },
    (c) => cancelConfirmation(c, deps, params<{ token: string }>(c).token),
  );

  // ── ETL and data quality ──
  route(
    {
      method: 'post',
      path: '/api/etl/queue',
      tags: ['etl'],
      summary: 'Queue the ETL of a tracked game',
      request: jsonBody(S.EtlQueueBody),
      responses: { 200: S.json(S.OutcomeSchema, 'queued (or joined a pending job)') },
    },
    (c) => {
      const b = body<import('zod').infer<typeof S.EtlQueueBody>>(c);
      return runCommand(c, deps, { text: words('etl queue', b.game_id, b.priority !== undefined && `priority ${b.priority}`), record: true });
    },
  );
  route(
    {
      method: 'get',
      path: '/api/etl/queue',
      tags: ['etl'],
      summary: 'The queue: pending, running and failed jobs',
      responses: { 200: S.json(S.OutcomeSchema, 'etl status') },
    },
    (c) => runCommand(c, deps, { text: 'etl status' }),
  );
  route(
    {
      method: 'get',
      path: '/api/etl/jobs/{id}',
      tags: ['etl'],
      summary: "One queued job with its log: the ETL pipeline's steps' output, the step it failed at, the load of its export",
      request: { params: S.IdParams },
      responses: { 200: S.json(S.OutcomeSchema, 'etl log: data.job (with failedStep) and data.lines') },
    },
    (c) => runCommand(c, deps, { text: `etl log ${params<{ id: number }>(c).id}` }),
  );
  route(
    { method: 'post', path: '/api/etl/run', tags: ['etl'], summary: 'Run queued jobs now (or one)', request: jsonBody(S.EtlRunBody), responses: accepted },
    (c) => {
      const b = body<import('zod').infer<typeof S.EtlRunBody>>(c);
      return runCommand(c, deps, { text: words('etl run', b.queue_id) });
    },
  );
  route(
    {
      method: 'post',
      path: '/api/validate',
      tags: ['quality'],
      summary: 'Run the data-quality rules (Validate All), recorded',
      request: jsonBody(S.ValidateBody),
      responses: { 200: S.json(S.OutcomeSchema, 'the findings') },
    },
    (c) => {
      const b = body<import('zod').infer<typeof S.ValidateBody>>(c);
      return runCommand(c, deps, { text: words('validate', b.game_id !== undefined && `game ${b.game_id}`), record: true });
    },
  );
  route(
    {
      method: 'get',
      path: '/api/quality/findings',
      tags: ['quality'],
      summary: 'The data-quality findings now (the status board)',
      request: { query: S.QualityQuery },
      responses: { 200: S.json(S.OutcomeSchema, 'the findings') },
    },
    (c) => {
      const q = query<{ game_id?: number }>(c);
      return runCommand(c, deps, { text: words('validate', q.game_id !== undefined && `game ${q.game_id}`) });
    },
  );

  // ── Status ──
  route(
    {
      method: 'get',
      path: '/api/load/history',
      tags: ['status'],
      summary: 'Recent operations',
      request: { query: S.HistoryQuery },
      responses: { 200: S.json(S.OutcomeSchema, 'history rows') },
    },
    (c) => {
      const q = query<{ table?: string; limit?: number }>(c);
      return runCommand(c, deps, { text: words('history', q.table, q.limit !== undefined && `limit ${q.limit}`) });
    },
  );
  route(
    {
      method: 'get',
      path: '/api/load/history/{id}',
      tags: ['status'],
      summary: 'One operation: its tables, error (file, line, column, value), findings; a command with the load it ran',
      request: { params: S.IdParams },
      responses: { 200: S.json(S.LooseSchema, 'the operation'), 404: S.problem('no such operation') },
    },
    async (c) => {
      const { id } = params<{ id: number }>(c);
      const load = await loadDetail(deps.db, id);
      if (load)
        return c.json({
          kind: 'load',
          load,
          problem: load.status === 'failed' ? { ...PROBLEM.loadFailed, status: 422, ...loadProblem(load.error, load.errorMessage ?? 'failed') } : undefined,
        });
      const cmd = await commandRecord(deps.db, id);
      if (!cmd) return problemResponse(c, 404, PROBLEM.notFound, { detail: `no operation ${id} in the history` });
      const ran = cmd.result?.historyId ? await loadDetail(deps.db, cmd.result.historyId) : null;
      return c.json({ kind: 'command', command: cmd, load: ran });
    },
  );
  route(
    {
      method: 'get',
      path: '/api/load/history/{id}/rejects',
      tags: ['status'],
      summary: 'The rows a load rejected, with their line and reason',
      request: { params: S.IdParams, query: S.RejectsQuery },
      responses: { 200: S.json(S.LooseSchema, 'rejected rows') },
    },
    async (c) => {
      const { id } = params<{ id: number }>(c);
      const q = query<{ limit: number; offset: number; table?: string }>(c);
      return c.json(await rejectsOf(deps.db, id, q));
    },
  );
  route(
    {
      method: 'get',
      path: '/api/tables/counts',
      tags: ['status'],
      summary: 'Rows in every warehouse table',
      responses: { 200: S.json(S.OutcomeSchema, 'counts') },
    },
    (c) => runCommand(c, deps, { text: 'counts' }),
  );
  route(
    {
      method: 'get',
      path: '/api/health',
      tags: ['status'],
      summary: 'Database, schema version, queue and last load',
      responses: { 200: S.json(S.OutcomeSchema, 'health') },
    },
    (c) => runCommand(c, deps, { text: 'health' }),
  );
  route(
    {
      method: 'get',
      path: '/api/games',
      tags: ['status'],
      summary: 'The games of dim_schedule (teams and date), for the game picker',
      responses: { 200: S.json(S.LooseSchema, 'games') },
    },
    async (c) => c.json({ games: await scheduledGames(deps.db) }),
  );
  route(
    {
      method: 'get',
      path: '/api/changes',
      tags: ['status'],
      summary: "A version of the warehouse's activity: poll it, refresh when it changes",
      responses: { 200: S.json(S.LooseSchema, 'version') },
    },
    async (c) => c.json({ version: await activityVersion(deps.db) }),
  );

  // ── Jobs ──
  const jobView = async (id: number) => {
    const rec = await commandRecord(deps.db, id);
    if (!rec) return null;
    const live = deps.jobs.progress?.(id);
    const res = rec.result as { historyId?: number; status?: string; text?: string } | null;
    let state: string;
    if (rec.status === 'started') state = rec.confirmation?.state === 'asked' ? 'waiting' : live?.state === 'running' ? 'running' : 'queued';
    else if (rec.status === 'refused') state = 'refused';
    else state = res?.status ?? rec.status;
    const load = res?.historyId ? await loadDetail(deps.db, res.historyId) : null;
    const failed = rec.status === 'failed';
    const problem = failed
      ? load
        ? { ...PROBLEM.loadFailed, status: 422, ...loadProblem(load.error, rec.errorMessage ?? 'failed') }
        : { ...PROBLEM.commandFailed, status: 422, detail: rec.errorMessage ?? 'failed' }
      : undefined;
    return {
      id,
      command: rec.text,
      by: rec.initiatedBy,
      state,
      startedAt: rec.startedAt,
      completedAt: rec.completedAt,
      durationMs: rec.durationMs,
      progress: live && live.state !== 'finished' ? live : live?.state === 'finished' ? live : undefined,
      load,
      text: res?.text,
      problem,
    };
  };
  route(
    {
      method: 'get',
      path: '/api/jobs/{id}',
      tags: ['jobs'],
      summary: 'A job: state, progress (local), its load and problem',
      request: { params: S.IdParams },
      responses: { 200: S.json(S.JobSchema, 'the job'), 404: S.problem('no such job') },
    },
    async (c) => {
      const v = await jobView(params<{ id: number }>(c).id);
      return v ? c.json(v) : problemResponse(c, 404, PROBLEM.notFound, { detail: 'no such job' });
    },
  );
  route(
    {
      method: 'delete',
      path: '/api/jobs/{id}',
      tags: ['jobs'],
      summary: 'Cancel a running job (local): everything rolls back',
      request: { params: S.IdParams },
      responses: { 202: S.json(S.LooseSchema, 'cancelling'), 409: S.problem('not running here') },
    },
    async (c) => {
      const { id } = params<{ id: number }>(c);
      const rec = await commandRecord(deps.db, id);
      const user = c.get('user');
      if (!rec) return problemResponse(c, 404, PROBLEM.notFound, { detail: 'no such job' });
      if (rec.initiatedBy !== user.historyName && user.role !== 'admin')
        return problemResponse(c, 403, PROBLEM.forbidden, { detail: 'only its requester or an admin may cancel a job' });
      if (!deps.jobs.cancel?.(id))
        return problemResponse(c, 409, PROBLEM.unavailable, { detail: 'the job is not running in this process (finished, or running on the worker)' });
      return c.json({ cancelling: id }, 202);
    },
  );
  app.get('/api/jobs/:id/events', async (c) => {
    const id = Number(c.req.param('id'));
    if (!deps.jobs.subscribe || !Number.isInteger(id))
      return problemResponse(c, 404, PROBLEM.notFound, { detail: 'live progress is local only: poll /api/jobs/{id}' });
    const first = await jobView(id);
    if (!first) return problemResponse(c, 404, PROBLEM.notFound, { detail: 'no such job' });
    return streamSSE(c, async (stream) => {
      const done = ['succeeded', 'partial', 'failed', 'cancelled', 'refused'];
      if (done.includes(first.state)) return void (await stream.writeSSE({ event: 'done', data: JSON.stringify(first) }));
      await new Promise<void>((resolve) => {
        const off = deps.jobs.subscribe!(id, (p) => {
          if (p.state !== 'finished') return void stream.writeSSE({ event: 'progress', data: JSON.stringify(p) }).catch(() => undefined);
          off();
          void jobView(id)
            .then((v) => stream.writeSSE({ event: 'done', data: JSON.stringify(v) }))
            .catch(() => undefined)
            .finally(resolve);
        });
        stream.onAbort(() => {
          off();
          resolve();
        });
        // A job that ended between the first read and the subscription.
        void jobView(id).then((v) => {
          if (v && done.includes(v.state)) {
            off();
            void stream
              .writeSSE({ event: 'done', data: JSON.stringify(v) })
              .catch(() => undefined)
              .finally(resolve);
          }
        });
      });
    });
  });
  app.get('/api/events', (c) => {
    if (!feed) return problemResponse(c, 404, PROBLEM.notFound, { detail: 'live events are local only: poll /api/changes' });
    return streamSSE(c, async (stream) => {
      await new Promise<void>((resolve) => {
        const off = feed.subscribe((v) => void stream.writeSSE({ event: 'change', data: v }).catch(() => undefined));
        const ping = setInterval(() => void stream.write(': ping\n\n').catch(() => undefined), 15_000);
        stream.onAbort(() => {
          clearInterval(ping);
          off();
          resolve();
        });
      });
    });
  });

  // ── Uploads (drops) ──
  const uploadDoc = (summary: string, fields: string) => ({
    method: 'post' as const,
    tags: ['uploads'],
    summary,
    description: `multipart/form-data, streamed into the drop bucket as it arrives (never held whole). Fields first: ${fields}; then the file(s).`,
    request: {
      body: {
        content: {
          'multipart/form-data': {
            schema: S.LooseSchema.openapi({
              type: 'object',
              properties: { operation: { type: 'string' }, game_id: { type: 'string' }, confirmation: { type: 'string' } },
            }),
          },
        },
      },
    },
    responses: { 202: S.json(S.UploadAcceptedSchema, 'in the bucket: follow the load at /api/uploads/{id}'), 428: S.problem('deletes data: confirm first') },
  });
  app.openAPIRegistry.registerPath({
    path: '/api/upload/csv',
    security,
    ...uploadDoc('Upload one CSV (or tracker export): the table detected from its name, or `table`', 'operation, game_id, table, confirmation'),
  });
  app.openAPIRegistry.registerPath({
    path: '/api/upload/bulk',
    security,
    ...uploadDoc(
      'Upload several CSVs as one all-or-nothing request (a batch)',
      'names (one per line), tables (JSON name → table), operation, game_id, confirmation',
    ),
  });
  app.post('/api/upload/csv', (c) => streamUpload(c, deps, { bulk: false }));
  app.post('/api/upload/bulk', (c) => streamUpload(c, deps, { bulk: true }));
  route(
    {
      method: 'post',
      path: '/api/upload/detect',
      tags: ['uploads'],
      summary: 'What the bucket would make of these files (before sending them); a confirmation token when the load deletes rows',
      request: jsonBody(S.DetectBody),
      responses: { 200: S.json(S.LooseSchema, 'the plan') },
    },
    async (c) => {
      const b = body<import('zod').infer<typeof S.DetectBody>>(c);
      const user = c.get('user');
      const detected = b.files.map((f) => ({ ...detect(f.name), override: f.table ?? null }));
      const p = planUpload({ files: b.files, operation: b.operation, gameId: b.game_id }, user);
      if ('refusal' in p) return c.json({ files: detected, ok: false, problem: { ...p.refusal.kind, status: p.refusal.status, ...p.refusal.more } });
      const plan = p.plan;
      const base = {
        files: detected,
        ok: true,
        text: plan.text,
        requiredRole: plan.role,
        role: user.role,
        destructive: plan.destructive,
        uploads: config.uploads,
      };
      if (!plan.destructive || !deps.bucket || !b.ask) return c.json(base);
      // The confirmation is asked now, before a byte is sent.
      const answer = await admitUpload(c, deps, plan, undefined, deps.bucket.name);
      if (typeof answer === 'number') return c.json(base);
      const problem = (await answer.json()) as Record<string, unknown>;
      return c.json({ ...base, ok: answer.status === 428, confirmation: problem.confirmation, problem: answer.status === 428 ? undefined : problem });
    },
  );
  route(
    {
      method: 'post',
      path: '/api/upload/presign',
      tags: ['uploads'],
      summary: 'Presigned PUT URLs: the browser sends the files straight to the drop bucket (deployed)',
      request: jsonBody(S.PresignBody),
      responses: { 201: S.json(S.LooseSchema, 'the URLs'), 428: S.problem('deletes data: confirm first') },
    },
    (c) => {
      const b = body<import('zod').infer<typeof S.PresignBody>>(c);
      return presignUpload(c, deps, { files: b.files, operation: b.operation, gameId: b.game_id, confirmation: b.confirmation });
    },
  );
  route(
    {
      method: 'post',
      path: '/api/uploads/{id}/complete',
      tags: ['uploads'],
      summary: "After the presigned PUTs: a batch's manifest is written, and the upload is followed",
      request: { params: S.IdParams },
      responses: { 202: S.json(S.LooseSchema, 'the loader takes it') },
    },
    (c) => completeUpload(c, deps, params<{ id: number }>(c).id),
  );
  route(
    {
      method: 'get',
      path: '/api/uploads/{id}',
      tags: ['uploads'],
      summary: 'An upload, then what the S3 loader made of it (its load, or the problem)',
      request: { params: S.IdParams },
      responses: { 200: S.json(S.LooseSchema, 'the upload') },
    },
    (c) => uploadStatus(c, deps, params<{ id: number }>(c).id),
  );

  // ── Session ──
  app.get('/api/config', (c) =>
    c.json({
      auth: config.auth.kind,
      supabase: config.auth.kind === 'supabase' ? { url: config.auth.url, anonKey: config.auth.anonKey } : undefined,
      uploads: config.uploads,
      liveEvents: deps.liveEvents,
      tables: TABLE_NAMES,
      operations: OPERATIONS,
    }),
  );
  app.get('/api/session', async (c) => {
    if (config.auth.kind === 'local') {
      const s = deps.signIn?.session(getCookie(c, SESSION_COOKIE));
      if (!s) return c.json({ signedIn: false, auth: 'local' });
    } else if (!c.req.header('authorization')) return c.json({ signedIn: false, auth: 'supabase' });
    let answer: Response | undefined;
    await auth(c, async () => undefined).then((r) => (answer = r ?? undefined));
    if (answer) return answer;
    const u = c.get('user');
    // The activity's version now: the page loads the board after this, so a change event
    // (or poll) with another version is news to it, and the first one with this version is not.
    const version = await activityVersion(deps.db);
    return c.json({ signedIn: true, auth: config.auth.kind, user: { id: u.id, email: u.email, role: u.role, name: u.historyName }, csrf: u.csrf, version });
  });
  app.delete('/api/session', (c) => {
    deps.signIn?.end(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ signedIn: false });
  });
  app.get('/auth/local', (c) => {
    const token = c.req.query('token') ?? '';
    const r = deps.signIn?.redeem(token);
    if (!r) {
      return c.html(
        '<!doctype html><meta charset="utf-8"><title>BenchSight Portal</title><p>This sign-in link was already used or has expired. Stop <code>npm start</code> and start it again for a new one.</p>',
        401,
        securityHeaders(),
      );
    }
    setCookie(c, SESSION_COOKIE, r.id, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 12 * 3600 });
    return c.redirect('/', 303);
  });

  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'BenchSight Ops — Admin Portal API',
      version: '1',
      description:
        'Every endpoint is a command of the BenchSight command language (the one of Slack and the CLI) or a read of what the commands did. ' +
        'Errors are RFC 9457 problem details. Loads answer 202 with a job; destructive requests answer 428 with a confirmation token first.',
    },
  });

  if (deps.uiDir) serveUi(app, deps.uiDir, config.auth.kind === 'supabase' ? [config.auth.url] : []);
  return app;
}
