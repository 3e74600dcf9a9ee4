/**
 * Uploads are drops: a file goes into the drop bucket under `portal/<upload>/…` with the
 * key convention of loader/s3/keys.ts (`op=<operation>/`, `game=<id>/`, `<table>.csv`,
 * or a batch folder with its `_manifest.json` for several files: one all-or-nothing
 * request in dependency order), and the S3 loader loads it exactly as any drop. The
 * table is detected from the file name by the same classifyKey as the bucket's, shown
 * before anything is sent, and can be overridden. A load that deletes rows (replace,
 * merge, or a table whose default is replace) needs the same role and confirmation as
 * its command (`load table <t> <operation>`).
 *
 * Locally the browser sends the files to the Portal (multipart/form-data), streamed
 * through to the bucket a few 8 MB parts at a time, never whole. Deployed the browser
 * PUTs each file straight to S3 with a presigned URL (Lambda takes at most 6 MB).
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import busboy from 'busboy';
import type { Context } from 'hono';
import { isDestructive, parseCommand, requiredRole, type Role } from '../../loader/commands/grammar';
import { commandRecord, confirmationRecord, loadDetail } from '../../loader/commands/reads';
import { claimConfirmation, finishCommand, markAbandoned, recordCommand, recordConfirmationAsked } from '../../loader/history';
import { dropKey, dropStream } from '../../loader/s3/drop';
import { classifyKey, MANIFEST } from '../../loader/s3/keys';
import { objectOutcome } from '../../loader/s3/tracking';
import { OPERATIONS, TABLE_NAMES, type Operation } from '../../loader/warehouse';
import type { PortalEnv, PortalUser } from './auth';
import { atLeast } from '../../bot/roles';
import type { PortalDeps } from './deps';
import { loadProblem, PROBLEM, problemResponse, type Problem } from './problems';

export interface Detected {
  name: string;
  /** The table the bucket would load it into, or null. */
  table: string | null;
  kind: 'csv' | 'tracker' | 'unknown';
  /** Why the name says nothing the loader can use. */
  reason?: string;
}

/** What the drop bucket would make of a file of this name: the same rule, on the bare name. */
export function detect(name: string): Detected {
  const base = name.split(/[\\/]/).pop() ?? name;
  const k = classifyKey(base);
  if (k.kind === 'csv') return { name, table: k.table, kind: 'csv' };
  if (k.kind === 'tracker') return { name, table: null, kind: 'tracker' };
  return { name, table: null, kind: 'unknown', reason: k.kind === 'unknown' ? k.reason : `${base} is not a file the loader takes on its own` };
}

export interface UploadRequest {
  files: { name: string; table?: string }[];
  operation?: Operation;
  gameId?: number;
}

export interface PlannedFile {
  name: string;
  table: string | null;
  kind: 'csv' | 'tracker';
  key: string;
}

export interface UploadPlan {
  uploadId: string;
  files: PlannedFile[];
  /** Several files: a batch, loaded when its manifest (written last) arrives. */
  manifestKey?: string;
  /** The key whose load the person follows: the file's, or the batch's manifest. */
  followKey: string;
  /** The history's words for it: `upload fact_events.csv as fact_events (upsert)`. */
  text: string;
  role: Role;
  destructive: boolean;
  operation?: Operation;
  gameId?: number;
}

type Refusal = { status: 400 | 403 | 422; kind: { type: string; title: string }; more: Partial<Problem> };

const uploadId = () => `p${Date.now().toString(36)}${randomBytes(5).toString('hex')}x`;

/** Where each file goes and what its load needs (role, confirmation), or why it cannot go. */
export function planUpload(r: UploadRequest, user: PortalUser): { plan: UploadPlan } | { refusal: Refusal } {
  const bad = (detail: string, more: Partial<Problem> = {}): { refusal: Refusal } => ({
    refusal: { status: 422, kind: PROBLEM.badFile, more: { detail, ...more } },
  });
  if (!r.files.length) return { refusal: { status: 400, kind: PROBLEM.badRequest, more: { detail: 'no file was sent' } } };
  if (r.operation && !(OPERATIONS as readonly string[]).includes(r.operation)) return bad(`unknown operation ${r.operation}`);
  const id = uploadId();
  const prefix = `portal/${id}`;
  const batch = r.files.length > 1;
  const files: PlannedFile[] = [];
  for (const f of r.files) {
    const d = detect(f.name);
    if (f.table !== undefined && f.table !== '') {
      if (!TABLE_NAMES.includes(f.table)) return bad(`${f.name}: there is no table ${f.table}`, { file: f.name });
      files.push({ name: f.name, table: f.table, kind: 'csv', key: '' });
    } else if (d.kind === 'csv') files.push({ name: f.name, table: d.table, kind: 'csv', key: '' });
    else if (d.kind === 'tracker' && !batch) files.push({ name: f.name, table: null, kind: 'tracker', key: '' });
    else
      return bad(d.kind === 'tracker' ? `${f.name} is a tracker export: upload it on its own` : `${f.name}: ${d.reason}; choose its table`, {
        file: f.name,
      });
  }
  const tables = files.map((f) => f.table).filter((t): t is string => t !== null);
  const twice = tables.find((t, i) => tables.indexOf(t) !== i);
  if (twice) return bad(`two files are for ${twice}: a request loads one file per table`);
  const opWord = r.operation ?? '';
  const game = r.gameId !== undefined ? ` game ${r.gameId}` : '';
  let role: Role = 'operator';
  let destructive = false;
  for (const t of tables) {
    const p = parseCommand(`load table ${t} ${opWord}${game}`.replace(/\s+/g, ' ').trim());
    if (!p.ok) return bad(p.error);
    const need = requiredRole(p.command);
    if (need === 'admin') role = 'admin';
    destructive ||= isDestructive(p.command);
  }
  const batchFolder = batch ? `${prefix}/batches/${id}` : undefined;
  for (const f of files) {
    const name = f.kind === 'csv' ? `${f.table}.csv` : (f.name.split(/[\\/]/).pop() ?? f.name);
    f.key = batchFolder
      ? `${batchFolder}/${name}`
      : f.kind === 'csv'
        ? dropKey({ prefix, operation: r.operation, gameId: r.gameId }, name)
        : `${prefix}/${name}`;
  }
  const manifestKey = batchFolder ? `${batchFolder}/${MANIFEST}` : undefined;
  const what = files.map((f) => (f.table ? `${f.name} as ${f.table}` : f.name)).join(', ');
  const text = `upload ${what} (${r.operation ?? 'default operation'}${game ? `,${game}` : ''})`.slice(0, 480);
  void user;
  return {
    plan: { uploadId: id, files, manifestKey, followKey: manifestKey ?? files[0]!.key, text, role, destructive, operation: r.operation, gameId: r.gameId },
  };
}

const details = (plan: UploadPlan, bucket: string, user: PortalUser) => ({
  portal: { user: user.id, email: user.email, role: user.role },
  upload: {
    bucket,
    keys: plan.files.map((f) => f.key),
    follow: plan.followKey,
    files: plan.files.map((f) => ({ name: f.name, table: f.table, key: f.key })),
    operation: plan.operation,
    gameId: plan.gameId,
  },
});

/**
 * The person may send this plan: their role, and for a load that deletes rows a claimed
 * confirmation (its row becomes the upload's record). Returns the record's id, or the
 * answer that refuses (a 428 carrying a new confirmation token when none was given).
 */
export async function admitUpload(
  c: Context<PortalEnv>,
  deps: PortalDeps,
  plan: UploadPlan,
  confirmation: string | undefined,
  bucket: string,
): Promise<number | Response> {
  const user = c.get('user');
  if (!atLeast(user.role, plan.role)) {
    const why = user.role
      ? `${plan.text} needs the ${plan.role} role; you are a ${user.role}`
      : 'you have no BenchSight role: ask an admin to add you to the Portal roles';
    await recordCommand(deps.db, {
      userId: user.historyName,
      text: plan.text,
      operation: 'upload',
      status: 'refused',
      errorMessage: why,
      source: 'portal',
    }).catch(() => undefined);
    return problemResponse(c, 403, PROBLEM.forbidden, { detail: why, requiredRole: plan.role, role: user.role });
  }
  const row = {
    userId: user.historyName,
    text: plan.text,
    operation: 'upload',
    gameId: plan.gameId ?? null,
    source: 'portal' as const,
    details: details(plan, bucket, user),
  };
  if (!plan.destructive) return recordCommand(deps.db, { ...row, status: 'started' });
  if (!confirmation) {
    const nonce = randomBytes(24).toString('base64url');
    const expiresAt = Date.now() + deps.config.confirmTtlMs;
    await recordConfirmationAsked(deps.db, { ...row, nonce, expiresAt });
    return problemResponse(c, 428, PROBLEM.confirmationRequired, {
      detail: `${plan.text} deletes rows the file does not put back. Send it again with this confirmation, or cancel it.`,
      command: plan.text,
      confirmation: { token: nonce, description: plan.text, expiresAt: new Date(expiresAt).toISOString(), cancel: `/api/confirmations/${nonce}` },
    });
  }
  const asked = await confirmationRecord(deps.db, confirmation);
  const refuse = (detail: string) => problemResponse(c, 409, PROBLEM.confirmationInvalid, { detail });
  if (!asked || asked.initiatedBy !== user.historyName) return refuse('no confirmation of yours has that token: ask again');
  // The confirmed upload is the same files, tables and operation (the upload id is new each time).
  if (asked.text !== plan.text) return refuse(`that confirmation is for "${asked.text}", not "${plan.text}": ask again`);
  const r = await claimConfirmation(deps.db, { nonce: confirmation, userId: user.historyName, use: 'confirmed' });
  if (!r.claimed) return refuse(`the confirmation was already ${r.state === 'unknown' ? 'used' : r.state}: ask again`);
  // The claimed row keeps the keys of the request that asked; point it at this upload's.
  await deps.db.query(`UPDATE load_history SET warnings = warnings || $2::jsonb WHERE id = $1`, [r.id, JSON.stringify(details(plan, bucket, user))]);
  return r.id;
}

/** Writes a batch's manifest, last: the loader then loads the folder as one request. */
export async function writeManifest(deps: PortalDeps, plan: UploadPlan): Promise<void> {
  if (!plan.manifestKey || !deps.bucket) return;
  const manifest = {
    files: plan.files.map((f) => `${f.table}.csv`),
    ...(plan.operation ? { operation: plan.operation } : {}),
    ...(plan.gameId !== undefined ? { game: plan.gameId } : {}),
  };
  await deps.bucket.s3.send(
    new PutObjectCommand({ Bucket: deps.bucket.name, Key: plan.manifestKey, Body: JSON.stringify(manifest, null, 2), ContentType: 'application/json' }),
  );
}

const Fields = {
  operation: (v: string) => ((OPERATIONS as readonly string[]).includes(v) ? (v as Operation) : undefined),
  gameId: (v: string) => (/^\d{1,10}$/.test(v) && Number(v) > 0 && Number(v) <= 2147483647 ? Number(v) : undefined),
};

/**
 * POST /api/upload/csv and /api/upload/bulk: multipart/form-data, its fields (operation,
 * game_id, table or tables, confirmation) before its files. Each file streams into the
 * bucket as it arrives; the answer comes when every file is there (202: the loader takes it
 * from there, GET /api/uploads/{id} follows it).
 */
export async function streamUpload(c: Context<PortalEnv>, deps: PortalDeps, opts: { bulk: boolean }): Promise<Response> {
  const bucket = deps.bucket;
  if (!bucket) return problemResponse(c, 503, PROBLEM.unavailable, { detail: 'no drop bucket is configured for uploads' });
  if (deps.config.uploads !== 'stream') {
    return problemResponse(c, 400, PROBLEM.badRequest, { detail: 'upload files straight to the bucket: POST /api/upload/presign gives the URLs' });
  }
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data') || !c.req.raw.body) {
    return problemResponse(c, 400, PROBLEM.badRequest, { detail: 'send the files as multipart/form-data (fields first, then the files)' });
  }
  const fields: Record<string, string> = {};
  const files: { field: string; name: string; stream: Readable }[] = [];
  const bb = busboy({ headers: { 'content-type': type }, limits: { files: 20, fields: 20, fieldSize: 64 * 1024 } });
  const body = Readable.fromWeb(c.req.raw.body as import('node:stream/web').ReadableStream);

  // The files of a multipart body come one after another: each is sent on while it arrives.
  let answer: Response | undefined;
  let recordId: number | undefined;
  let plan: UploadPlan | undefined;
  const sent: { name: string; table: string | null; key: string; bytes: number }[] = [];
  let failure: Error | undefined;
  let chain: Promise<void> = Promise.resolve();

  const planned = (): UploadPlan | Response => {
    const tables: Record<string, string> = {};
    if (fields.tables) {
      try {
        Object.assign(tables, JSON.parse(fields.tables));
      } catch {
        return problemResponse(c, 400, PROBLEM.badRequest, { detail: 'tables must be JSON: {"<file name>": "<table>"}' });
      }
    }
    const names = (fields.names ?? '')
      .split(/\r?\n/)
      .map((n) => n.trim())
      .filter(Boolean);
    const operation = fields.operation ? Fields.operation(fields.operation) : undefined;
    if (fields.operation && !operation) return problemResponse(c, 400, PROBLEM.badRequest, { detail: `unknown operation ${fields.operation}` });
    const gameId = fields.game_id ? Fields.gameId(fields.game_id) : undefined;
    if (fields.game_id && gameId === undefined)
      return problemResponse(c, 400, PROBLEM.badRequest, { detail: `game_id must be a game id, not ${fields.game_id}` });
    const list = opts.bulk ? names : [files[0]!.name];
    if (!list.length) return problemResponse(c, 400, PROBLEM.badRequest, { detail: 'bulk uploads name their files first: the field "names", one per line' });
    const p = planUpload({ files: list.map((n) => ({ name: n, table: opts.bulk ? tables[n] : fields.table })), operation, gameId }, c.get('user'));
    if ('refusal' in p) return problemResponse(c, p.refusal.status, p.refusal.kind, p.refusal.more);
    return p.plan;
  };

  bb.on('field', (name, value) => {
    fields[name] = value;
  });
  bb.on('file', (field, stream, info) => {
    const name = info.filename ?? field;
    files.push({ field, name, stream });
    if (answer || failure) return void stream.resume();
    chain = chain.then(async () => {
      if (answer || failure) return void stream.resume();
      if (!plan) {
        const p = planned();
        if (p instanceof Response) {
          answer = p;
          return void stream.resume();
        }
        const admitted = await admitUpload(c, deps, p, fields.confirmation, bucket.name);
        if (admitted instanceof Response) {
          answer = admitted;
          return void stream.resume();
        }
        plan = p;
        recordId = admitted;
      }
      const target = plan.files.find((f) => f.name === name && !sent.some((s) => s.name === name));
      if (!target) {
        failure = new Error(`${name} was not named in "names"`);
        return void stream.resume();
      }
      const r = await dropStream(bucket.s3, {
        bucket: bucket.name,
        key: target.key,
        body: stream,
        contentType: target.kind === 'csv' ? 'text/csv' : 'application/json',
      });
      if ((stream as Readable & { truncated?: boolean }).truncated) throw new Error(`${name} is larger than an upload may be`);
      sent.push({ name, table: target.table, key: target.key, bytes: r.bytes });
    });
    chain = chain.catch((err: unknown) => {
      failure ??= err as Error;
      stream.resume();
    });
  });

  await new Promise<void>((resolve, reject) => {
    bb.on('close', resolve);
    bb.on('error', reject);
    body.on('error', reject);
    body.pipe(bb);
  }).catch((err: unknown) => {
    failure ??= err as Error;
  });
  await chain;
  if (answer) return answer;
  if (!plan || recordId === undefined) return problemResponse(c, 400, PROBLEM.badRequest, { detail: failure ? failure.message : 'no file was sent' });
  const missing = plan.files.filter((f) => !sent.some((s) => s.key === f.key));
  if (failure || missing.length) {
    const why = failure ? `the upload failed: ${failure.message}` : `named but not sent: ${missing.map((m) => m.name).join(', ')}`;
    await finishCommand(deps.db, recordId, { status: 'failed', errorMessage: `${why}; nothing was loaded`, durationMs: 0 }).catch(() => undefined);
    return problemResponse(c, 400, PROBLEM.badRequest, { detail: `${why}; nothing was loaded` });
  }
  await writeManifest(deps, plan);
  await finishCommand(deps.db, recordId, {
    status: 'succeeded',
    durationMs: 0,
    result: { uploaded: sent.map((s) => ({ key: s.key, bytes: s.bytes })) },
  });
  c.header('location', `/api/uploads/${recordId}`);
  return c.json({ upload: { id: recordId, url: `/api/uploads/${recordId}`, files: sent, follow: plan.followKey, text: plan.text } }, 202);
}

/** How long a presigned PUT works. */
const PRESIGNED_SECONDS = 15 * 60;

/** Presigned PUTs for files the browser sends straight to the bucket (deployed), and the upload's record. */
export async function presignUpload(
  c: Context<PortalEnv>,
  deps: PortalDeps,
  r: UploadRequest & { confirmation?: string; contentType?: string },
): Promise<Response> {
  const bucket = deps.bucket;
  if (!bucket) return problemResponse(c, 503, PROBLEM.unavailable, { detail: 'no drop bucket is configured for uploads' });
  const p = planUpload(r, c.get('user'));
  if ('refusal' in p) return problemResponse(c, p.refusal.status, p.refusal.kind, p.refusal.more);
  const admitted = await admitUpload(c, deps, p.plan, r.confirmation, bucket.name);
  if (admitted instanceof Response) return admitted;
  // Until when the browser may PUT: past it, an upload never finished is marked abandoned (bs_mark_abandoned).
  const presignedUntil = new Date(Date.now() + PRESIGNED_SECONDS * 1000).toISOString();
  await deps.db.query(`UPDATE load_history SET warnings = jsonb_set(warnings, '{upload,presignedUntil}', to_jsonb($2::text)) WHERE id = $1`, [
    admitted,
    presignedUntil,
  ]);
  const files = await Promise.all(
    p.plan.files.map(async (f) => ({
      name: f.name,
      table: f.table,
      key: f.key,
      contentType: f.kind === 'csv' ? 'text/csv' : 'application/json',
      url: await getSignedUrl(
        bucket.s3,
        new PutObjectCommand({ Bucket: bucket.name, Key: f.key, ContentType: f.kind === 'csv' ? 'text/csv' : 'application/json' }),
        { expiresIn: PRESIGNED_SECONDS },
      ),
    })),
  );
  return c.json(
    {
      upload: {
        id: admitted,
        url: `/api/uploads/${admitted}`,
        files,
        follow: p.plan.followKey,
        text: p.plan.text,
        complete: `/api/uploads/${admitted}/complete`,
        expiresInSeconds: PRESIGNED_SECONDS,
      },
    },
    201,
  );
}

/** After the browser's PUTs of a batch: the manifest, so the batch loads as one request. */
export async function completeUpload(c: Context<PortalEnv>, deps: PortalDeps, id: number): Promise<Response> {
  const rec = await commandRecord(deps.db, id);
  const up = rec?.details.upload as
    | { keys: string[]; follow: string; files: { name: string; table: string | null; key: string }[]; operation?: Operation; gameId?: number }
    | undefined;
  if (!rec || !up || rec.initiatedBy !== c.get('user').historyName) return problemResponse(c, 404, PROBLEM.notFound, { detail: `no upload ${id} of yours` });
  if (rec.status !== 'started') return problemResponse(c, 409, PROBLEM.badRequest, { detail: `upload ${id} is already ${rec.status}` });
  if (up.follow.endsWith(MANIFEST) && deps.bucket) {
    const manifest = {
      files: up.files.map((f) => `${f.table}.csv`),
      ...(up.operation ? { operation: up.operation } : {}),
      ...(up.gameId !== undefined ? { game: up.gameId } : {}),
    };
    await deps.bucket.s3.send(
      new PutObjectCommand({ Bucket: deps.bucket.name, Key: up.follow, Body: JSON.stringify(manifest), ContentType: 'application/json' }),
    );
  }
  await finishCommand(deps.db, id, { status: 'succeeded', durationMs: Date.now() - Date.parse(rec.startedAt), result: { uploaded: up.keys } });
  return c.json({ upload: { id, url: `/api/uploads/${id}` } }, 202);
}

/** GET /api/uploads/{id}: the upload, then what the S3 loader made of it (the load, or why not). */
export async function uploadStatus(c: Context<PortalEnv>, deps: PortalDeps, id: number): Promise<Response> {
  let rec = await commandRecord(deps.db, id);
  const expired = (rec?.details.upload as { presignedUntil?: string } | undefined)?.presignedUntil;
  if (rec?.status === 'started' && expired && Date.parse(expired) < Date.now()) {
    // The browser's presigned URLs ran out: an upload never finished says so now.
    await markAbandoned(deps.db);
    rec = await commandRecord(deps.db, id);
  }
  const up = rec?.details.upload as { bucket: string; follow: string; files: { name: string; table: string | null; key: string }[] } | undefined;
  if (!rec || !up) return problemResponse(c, 404, PROBLEM.notFound, { detail: `no upload ${id}` });
  const base = { id, text: rec.text, by: rec.initiatedBy, files: up.files, key: up.follow };
  if (rec.status === 'started') return c.json({ ...base, state: 'uploading' }, 200);
  if (rec.status !== 'succeeded')
    return c.json({ ...base, state: 'failed', problem: { ...PROBLEM.badRequest, status: 400, detail: rec.errorMessage ?? rec.status } }, 200);
  const o = await objectOutcome(deps.db, up.bucket, up.follow);
  if (!o) return c.json({ ...base, state: 'waiting' }, 200);
  const load = o.historyId !== null ? await loadDetail(deps.db, o.historyId) : null;
  const problem =
    o.status === 'failed' || o.status === 'skipped'
      ? { ...PROBLEM.loadFailed, status: 422, ...(load?.error ? loadProblem(load.error, o.note ?? 'the load failed') : { detail: o.note ?? o.status }) }
      : undefined;
  return c.json({ ...base, state: o.status, note: o.note, load, problem }, 200);
}
