/**
 * The API's shapes, declared once with zod: requests are validated with them at the edge,
 * and the OpenAPI document (/api/openapi.json) is generated from them. Names of tables,
 * categories and operations come from the warehouse declaration.
 */
import { z } from '@hono/zod-openapi';
import { GROUPS, OPERATIONS, TABLE_NAMES } from '../../loader/warehouse';

const GameId = z.number().int().positive().max(2147483647).openapi({ example: 18969 });
const Operation = z.enum(OPERATIONS).openapi({ description: "replace | append | upsert | merge; default: each table's own" });
const Table = z.enum(TABLE_NAMES as [string, ...string[]]).openapi({ example: 'fact_events' });
const DryRun = z.boolean().optional().openapi({ description: 'plan it and roll back: shows what it would do, changes nothing' });
const Confirmation = z
  .string()
  .regex(/^[A-Za-z0-9_-]{16,64}$/)
  .optional()
  .openapi({ description: 'the token a 428 answer gave: sent with the same request, it runs a destructive command once' });

export const LoadTableBody = z
  .object({ table: Table, operation: Operation.optional(), game_id: GameId.optional(), dry_run: DryRun, confirmation: Confirmation })
  .strict();
export const LoadCategoryBody = z
  .object({
    category: z.enum(GROUPS).openapi({ example: 'core_facts' }),
    operation: Operation.optional(),
    game_id: GameId.optional(),
    dry_run: DryRun,
    confirmation: Confirmation,
  })
  .strict();
export const LoadGameBody = z.object({ game_id: GameId, operation: Operation.optional(), dry_run: DryRun, confirmation: Confirmation }).strict();
export const LoadAllBody = z.object({ operation: Operation.optional(), dry_run: DryRun, confirmation: Confirmation }).strict();
export const FullRefreshBody = z.object({ dry_run: DryRun, confirmation: Confirmation }).strict();
export const DeleteGameParams = z.object({
  game_id: z.coerce
    .number()
    .int()
    .positive()
    .max(2147483647)
    .openapi({ param: { name: 'game_id', in: 'path' }, example: 18969 }),
});
export const DeleteGameQuery = z.object({
  dry_run: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ param: { name: 'dry_run', in: 'query' } }),
  confirmation: Confirmation.openapi({ param: { name: 'confirmation', in: 'query' } }),
});
export const EtlQueueBody = z.object({ game_id: GameId, priority: z.number().int().min(-100).max(100).optional() }).strict();
export const EtlRunBody = z.object({ queue_id: z.number().int().positive().optional() }).strict();
export const ValidateBody = z.object({ game_id: GameId.optional() }).strict();
export const QualityQuery = z.object({
  game_id: z.coerce
    .number()
    .int()
    .positive()
    .max(2147483647)
    .optional()
    .openapi({ param: { name: 'game_id', in: 'query' } }),
});
export const HistoryQuery = z.object({
  table: Table.optional().openapi({ param: { name: 'table', in: 'query' } }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: 'limit', in: 'query' } }),
});
export const IdParams = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'id', in: 'path' }, example: 42 }),
});
export const RejectsQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .default(100)
    .openapi({ param: { name: 'limit', in: 'query' } }),
  offset: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .openapi({ param: { name: 'offset', in: 'query' } }),
  table: Table.optional().openapi({ param: { name: 'table', in: 'query' } }),
});
export const TokenParams = z.object({
  token: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,64}$/)
    .openapi({ param: { name: 'token', in: 'path' } }),
});

const UploadFile = z.object({
  name: z.string().min(1).max(255).openapi({ example: 'fact_events.csv' }),
  table: Table.optional().openapi({ description: 'overrides the table detected from the name' }),
  size: z.number().int().min(0).optional(),
});
const UploadPlan = { files: z.array(UploadFile).min(1).max(20), operation: Operation.optional(), game_id: GameId.optional() };
export const DetectBody = z
  .object({
    ...UploadPlan,
    ask: z.boolean().optional().openapi({ description: 'when the load would delete rows, ask for the confirmation now (a token comes back)' }),
  })
  .strict();
export const PresignBody = z.object({ ...UploadPlan, confirmation: Confirmation }).strict();

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    file: z.string().optional(),
    table: z.string().optional(),
    line: z.number().int().optional(),
    column: z.string().optional(),
    value: z.string().optional(),
    hint: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    confirmation: z.object({ token: z.string(), description: z.string(), expiresAt: z.string(), cancel: z.string() }).optional(),
  })
  .passthrough()
  .openapi('Problem', { description: 'RFC 9457 problem details; a bad input names its file, line, column and value' });

export const AcceptedSchema = z
  .object({
    job: z.object({ id: z.number().int(), url: z.string(), events: z.string().optional(), command: z.string(), description: z.string() }),
  })
  .openapi('Accepted');

export const OutcomeSchema = z
  .object({ command: z.string(), outcome: z.object({ kind: z.string(), ok: z.boolean() }).passthrough() })
  .openapi('CommandOutcome', { description: "executeCommand's outcome as data: history rows, counts, health, the ETL queue, findings …" });

export const JobSchema = z
  .object({
    id: z.number().int(),
    command: z.string(),
    by: z.string(),
    state: z.enum(['queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled', 'refused', 'waiting']),
    startedAt: z.string(),
    completedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    progress: z
      .object({
        phase: z.string().optional(),
        table: z.string().optional(),
        rows: z.number(),
        bytes: z.number(),
        totalBytes: z.number().optional(),
        mbPerSec: z.number(),
      })
      .optional(),
    load: z.object({}).passthrough().nullable().optional(),
    text: z.string().optional(),
    problem: ProblemSchema.optional(),
  })
  .openapi('Job');

export const UploadAcceptedSchema = z
  .object({ upload: z.object({ id: z.number().int(), url: z.string(), files: z.array(z.object({}).passthrough()), follow: z.string(), text: z.string() }) })
  .openapi('UploadAccepted');

export const LooseSchema = z.object({}).passthrough();

export const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
export const problem = (description: string) => ({ content: { 'application/problem+json': { schema: ProblemSchema } }, description });
