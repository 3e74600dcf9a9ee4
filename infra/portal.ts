/**
 * The Admin Portal (portal/README.md): its Lambda (dist/portal, the built page inside)
 * behind a Function URL that serves the API and the page from one origin. The app answers
 * CORS for that origin only; the drop bucket's CORS lets that origin PUT (presigned
 * uploads) and nothing else. Its role may read its secrets, write under `portal/` of the
 * bucket (what it presigns and the manifests it writes) and wake the worker, which runs
 * the jobs. Created when the stack sets `portalSupabaseUrl`: sign-in is the Supabase Auth
 * of the warehouse's project, roles from the stack's one `roles` setting (the bot's too).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { logStatement, readSecretsStatement, type PolicyDocument } from './policies';
import { RDS_CA_ENV, ServiceFunction } from './service-function';
import type { StoredSecret } from './secrets';

/** Where the Portal's uploads go in the drop bucket (keys.ts reads them like any drop). */
export const PORTAL_PREFIX = 'portal/';

export interface PortalPolicyArgs {
  logGroupArn: string;
  secretArns: string[];
  bucketArn: string;
  workerFunctionArn: string;
}

export function portalPolicy(a: PortalPolicyArgs): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      logStatement(a.logGroupArn),
      readSecretsStatement(a.secretArns),
      // Its uploads (presigned PUTs; multipart through lib-storage where it streams one itself), under its prefix only.
      {
        Sid: 'Uploads',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
        Resource: [`${a.bucketArn}/${PORTAL_PREFIX}*`],
      },
      // The drop bucket as a command's source (the same command context as the CLI and Slack): read only.
      { Sid: 'ReadDrops', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: [`${a.bucketArn}/*`] },
      { Sid: 'ListDrops', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [a.bucketArn] },
      { Sid: 'HandOffToWorker', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [a.workerFunctionArn] },
    ],
  };
}

/** The bucket's CORS: the Portal's origin may PUT (its presigned uploads); no other origin, no other method. */
export function uploadCorsRules(origin: string) {
  return [{ allowedMethods: ['PUT'], allowedOrigins: [origin], allowedHeaders: ['content-type'], exposeHeaders: ['etag'], maxAgeSeconds: 600 }];
}

export interface PortalArgs {
  namePrefix: string;
  databaseSecret: StoredSecret;
  bucketName: pulumi.Input<string>;
  bucketArn: pulumi.Input<string>;
  bucketId: pulumi.Input<string>;
  workerFunctionName: pulumi.Input<string>;
  workerFunctionArn: pulumi.Input<string>;
  supabaseUrl: string;
  supabaseAnonKey?: string;
  /** The project's legacy JWT secret, when it has no asymmetric keys (JWKS). */
  jwtSecret?: pulumi.Output<string>;
  roles: string;
  logRetentionDays: number;
}

export class Portal extends pulumi.ComponentResource {
  readonly fn: ServiceFunction;
  /** The Portal's URL (the page and /api). */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: PortalArgs, opts?: pulumi.ComponentResourceOptions) {
    super('benchsight:infra:Portal', name, {}, opts);
    let jwtSecretArn: pulumi.Output<string> | undefined;
    const secretArns: pulumi.Input<string>[] = [args.databaseSecret.arn];
    if (args.jwtSecret) {
      const s = new aws.secretsmanager.Secret(
        `${name}-jwt-secret`,
        { namePrefix: `${args.namePrefix}-portal-jwt-`, description: 'the Supabase project JWT secret' },
        { parent: this },
      );
      new aws.secretsmanager.SecretVersion(`${name}-jwt-secret-value`, { secretId: s.id, secretString: args.jwtSecret }, { parent: this });
      jwtSecretArn = s.arn;
      secretArns.push(s.arn);
    }
    this.fn = new ServiceFunction(
      name,
      {
        functionName: `${args.namePrefix}-portal`,
        bundle: 'portal',
        description: 'the Admin Portal (API and page)',
        memoryMb: 1024,
        timeoutSeconds: 30,
        environment: {
          PORTAL_AUTH: 'supabase',
          SUPABASE_URL: args.supabaseUrl,
          ...(args.supabaseAnonKey ? { SUPABASE_ANON_KEY: args.supabaseAnonKey } : {}),
          ...(jwtSecretArn ? { SUPABASE_JWT_SECRET_ARN: jwtSecretArn } : {}),
          BENCHSIGHT_ROLES: args.roles,
          PORTAL_UPLOADS: 'presigned',
          DATABASE_SECRET_ARN: args.databaseSecret.arn,
          DROP_BUCKET: args.bucketName,
          WORKER_FUNCTION_NAME: args.workerFunctionName,
          ...RDS_CA_ENV,
        },
        logRetentionDays: args.logRetentionDays,
        policy: (logGroupArn) =>
          pulumi
            .all([logGroupArn, pulumi.all(secretArns), args.bucketArn, args.workerFunctionArn])
            .apply(([lg, arns, bucketArn, workerFunctionArn]) => portalPolicy({ logGroupArn: lg, secretArns: arns, bucketArn, workerFunctionArn })),
      },
      { parent: this },
    );
    const fn = this.fn.function;
    // CORS is answered by the app, for its own origin only (the URL is not known before it exists).
    const url = new aws.lambda.FunctionUrl(`${name}-url`, { functionName: fn.name, authorizationType: 'NONE', invokeMode: 'BUFFERED' }, { parent: this });
    new aws.lambda.Permission(
      `${name}-url-invoke`,
      { action: 'lambda:InvokeFunctionUrl', function: fn.name, principal: '*', functionUrlAuthType: 'NONE' },
      { parent: this },
    );
    new aws.lambda.Permission(
      `${name}-url-invoke-function`,
      { action: 'lambda:InvokeFunction', function: fn.name, principal: '*', invokedViaFunctionUrl: true },
      { parent: this },
    );
    const origin = url.functionUrl.apply((u) => new URL(u).origin);
    new aws.s3.BucketCorsConfiguration(`${name}-upload-cors`, { bucket: args.bucketId, corsRules: origin.apply(uploadCorsRules) }, { parent: this });
    this.url = url.functionUrl;
    this.registerOutputs({ url: this.url });
  }
}

/**
 * The Portal's settings from the stack (`portalSupabaseUrl`, `portalSupabaseAnonKey`,
 * secret `portalJwtSecret`; who may do what: the stack's one `roles` setting, the bot's
 * too — or, on a stack that still has it, the older `portalRoles`); none: no Portal.
 */
export function portalConfig(config = new pulumi.Config(), shared?: { admins: string[]; operators: string[]; viewers: string[] }) {
  const supabaseUrl = config.get('portalSupabaseUrl');
  if (!supabaseUrl) return undefined;
  if (!/^https:\/\/[^/]+$/.test(supabaseUrl.replace(/\/$/, '')))
    throw new Error(`portalSupabaseUrl must be the project URL (https://<ref>.supabase.co), not ${supabaseUrl}`);
  if (shared) {
    return {
      supabaseUrl: supabaseUrl.replace(/\/$/, ''),
      supabaseAnonKey: config.get('portalSupabaseAnonKey'),
      jwtSecret: config.getSecret('portalJwtSecret'),
      roles: JSON.stringify(shared),
    };
  }
  const roles = config.get('portalRoles');
  if (!roles)
    throw new Error(`the Portal needs to know who may do what: pulumi config set roles '{"admins":["U1","ada@league.example"],"viewers":["*"]}' (Slack's too)`);
  try {
    JSON.parse(roles);
  } catch {
    throw new Error('portalRoles must be JSON such as {"admins":["ada@league.example"],"viewers":["*"]}');
  }
  return {
    supabaseUrl: supabaseUrl.replace(/\/$/, ''),
    supabaseAnonKey: config.get('portalSupabaseAnonKey'),
    jwtSecret: config.getSecret('portalJwtSecret'),
    roles,
  };
}
