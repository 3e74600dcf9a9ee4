/**
 * Secrets at run time. On AWS the functions' environment holds only the ARN (or name)
 * of each Secrets Manager secret; the value is read here once per cold start and kept
 * in memory. Locally DATABASE_URL is used as it is. No secret value is ever logged or
 * put in an error message: errors name the secret, not what it holds.
 *
 * Why not @aws-lambda-powertools/parameters: what it adds is a TTL cache (re-reading every
 * 5 s by default) and transforms. Here a value is wanted once per cold start: a rotation
 * reaches the functions by a deploy (infra sets SECRETS_REVISION from the secrets'
 * versions, which starts new instances), so a TTL would only add Secrets Manager calls
 * (and their cost) on the warm path. The whole need is the one GetSecretValue below, a
 * promise cache that never keeps a failure, and errors that never hold the value: fewer
 * lines than its configuration, and one dependency less in every Lambda bundle.
 */
import { GetSecretValueCommand, type GetSecretValueCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export class SecretError extends Error {}

/** Reads one secret's string value. */
export type SecretReader = (arnOrName: string) => Promise<string>;

let defaultClient: SecretsManagerClient | undefined;
const cache = new Map<string, Promise<string>>();

/** Forgets the cached values (tests; a rotated secret is picked up by a new cold start). */
export function clearSecretCache(): void {
  cache.clear();
  defaultClient = undefined;
}

async function fetchSecret(client: SecretsManagerClient, arnOrName: string): Promise<string> {
  let out: GetSecretValueCommandOutput;
  try {
    out = await client.send(new GetSecretValueCommand({ SecretId: arnOrName }));
  } catch (err) {
    const name = (err as { name?: string }).name ?? 'Error';
    const message = err instanceof Error ? err.message : String(err);
    throw new SecretError(`cannot read secret ${arnOrName}: ${name}: ${message}`);
  }
  if (typeof out.SecretString !== 'string' || out.SecretString === '') {
    throw new SecretError(`secret ${arnOrName} holds no string value: store the value as a SecretString`);
  }
  return out.SecretString;
}

/**
 * The value of a Secrets Manager secret, by ARN or name; read once per process (cold
 * start) and cached. A failed read is not cached, so the next call tries again.
 */
export function readSecret(arnOrName: string, opts: { client?: SecretsManagerClient } = {}): Promise<string> {
  if (!arnOrName.trim()) return Promise.reject(new SecretError('no secret ARN or name given'));
  const hit = cache.get(arnOrName);
  if (hit) return hit;
  const client = opts.client ?? (defaultClient ??= new SecretsManagerClient({}));
  const pending = fetchSecret(client, arnOrName);
  cache.set(arnOrName, pending);
  pending.catch(() => cache.delete(arnOrName));
  return pending;
}

/**
 * The PostgreSQL connection string: DATABASE_URL when set (local runs), otherwise the
 * value of the secret named by DATABASE_SECRET_ARN (the functions on AWS).
 */
export async function resolveDatabaseUrl(env: Record<string, string | undefined> = process.env, read: SecretReader = readSecret): Promise<string> {
  const direct = env.DATABASE_URL?.trim();
  if (direct) return direct;
  const arn = env.DATABASE_SECRET_ARN?.trim();
  if (!arn) {
    throw new SecretError('no database configured: set DATABASE_URL, or DATABASE_SECRET_ARN to a Secrets Manager secret holding it');
  }
  const url = (await read(arn)).trim();
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new SecretError(`secret ${arn} (DATABASE_SECRET_ARN) does not hold a postgres:// connection string`);
  }
  return url;
}

/** The value of the secret whose ARN or name is in environment variable `variable`. */
export async function secretFromEnv(variable: string, env: Record<string, string | undefined> = process.env, read: SecretReader = readSecret): Promise<string> {
  const arn = env[variable]?.trim();
  if (!arn) throw new SecretError(`${variable} is not set: it names the Secrets Manager secret to read`);
  return read(arn);
}
