/**
 * IAM policy documents of the stack, as pure functions of ARNs: each function gets
 * exactly the actions it needs on exactly its resources. `wildcardViolations` is the
 * rule the tests hold every document of the stack to.
 */

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action: string | string[];
  /** Absent only in a trust policy. */
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

const doc = (...statements: Statement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });
const allow = (Sid: string, Action: string[], Resource: string[]): Statement => ({ Sid, Effect: 'Allow', Action, Resource });

/** Trust policy of every function's role. */
export function lambdaAssumeRolePolicy(): PolicyDocument {
  return doc({
    Effect: 'Allow',
    Principal: { Service: 'lambda.amazonaws.com' },
    Action: 'sts:AssumeRole',
  });
}

/** Writing to its own log group only (the group exists: no CreateLogGroup). */
export function logStatement(logGroupArn: string): Statement {
  return allow('WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [`${logGroupArn}:*`]);
}

export function readSecretsStatement(secretArns: string[]): Statement {
  return allow('ReadOwnSecrets', ['secretsmanager:GetSecretValue'], secretArns);
}

export interface LoaderPolicyArgs {
  bucketArn: string;
  logGroupArn: string;
  deadLetterQueueArn: string;
  /** The database secret, and the bot token's (the loader posts outcomes to Slack). */
  secretArns: string[];
  workerFunctionArn: string;
}

export function loaderPolicy(a: LoaderPolicyArgs): PolicyDocument {
  return doc(
    logStatement(a.logGroupArn),
    // The bucket is versioned: the loader reads and copies an object by the version its
    // event names, which S3 authorises as GetObjectVersion.
    allow('ReadDroppedFiles', ['s3:GetObject', 's3:GetObjectVersion'], [`${a.bucketArn}/*`]),
    // Without ListBucket a missing key answers AccessDenied instead of NoSuchKey.
    allow('ListDroppedFiles', ['s3:ListBucket'], [a.bucketArn]),
    allow('FileOutcomes', ['s3:PutObject'], [`${a.bucketArn}/processed/*`, `${a.bucketArn}/failed/*`, `${a.bucketArn}/refused/*`]),
    allow('DeadLetters', ['sqs:SendMessage'], [a.deadLetterQueueArn]),
    readSecretsStatement(a.secretArns),
    allow('HandOffToWorker', ['lambda:InvokeFunction'], [a.workerFunctionArn]),
  );
}

export interface WorkerPolicyArgs {
  bucketArn: string;
  logGroupArn: string;
  secretArns: string[];
}

export function workerPolicy(a: WorkerPolicyArgs): PolicyDocument {
  return doc(
    logStatement(a.logGroupArn),
    allow('ReadDroppedFiles', ['s3:GetObject', 's3:GetObjectVersion'], [`${a.bucketArn}/*`]),
    allow('ListDroppedFiles', ['s3:ListBucket'], [a.bucketArn]),
    readSecretsStatement(a.secretArns),
  );
}

export interface EtlExecutionPolicyArgs {
  logGroupArn: string;
  secretArns: string[];
  /** The image's ECR repository; undefined for an image of another registry (nothing to grant). */
  repositoryArn?: string;
}

/** ECS starting the ETL task: pull its image, write its logs, read the database secret into its environment. */
export function etlExecutionPolicy(a: EtlExecutionPolicyArgs): PolicyDocument {
  return doc(
    logStatement(a.logGroupArn),
    readSecretsStatement(a.secretArns),
    ...(a.repositoryArn
      ? [
          allow('PullImage', ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'], [a.repositoryArn]),
          allow('RegistryLogin', ['ecr:GetAuthorizationToken'], ['*']),
        ]
      : []),
  );
}

export interface EtlSchedulePolicyArgs {
  /** The task definition's family ARN with `:*` (every revision). */
  taskDefinitionArn: string;
  clusterArn: string;
  passRoleArns: string[];
}

/** EventBridge starting the ETL task on its cluster, handing ECS the task's roles. */
export function etlSchedulePolicy(a: EtlSchedulePolicyArgs): PolicyDocument {
  return doc(
    { Sid: 'RunEtlTask', Effect: 'Allow', Action: ['ecs:RunTask'], Resource: [a.taskDefinitionArn], Condition: { ArnEquals: { 'ecs:cluster': a.clusterArn } } },
    allow('PassTaskRoles', ['iam:PassRole'], a.passRoleArns),
  );
}

export interface BotPolicyArgs {
  logGroupArn: string;
  secretArns: string[];
  workerFunctionArn: string;
}

export function botPolicy(a: BotPolicyArgs): PolicyDocument {
  return doc(logStatement(a.logGroupArn), readSecretsStatement(a.secretArns), allow('HandOffToWorker', ['lambda:InvokeFunction'], [a.workerFunctionArn]));
}

export interface MigratePolicyArgs {
  logGroupArn: string;
  databaseSecretArn: string;
}

export function migratePolicy(a: MigratePolicyArgs): PolicyDocument {
  return doc(logStatement(a.logGroupArn), readSecretsStatement([a.databaseSecretArn]));
}

/** The drop bucket refuses every request that does not come over TLS. */
export function denyInsecureTransportPolicy(bucketArn: string): PolicyDocument {
  return doc({
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  });
}

/**
 * Actions that AWS only accepts on `Resource: "*"`, each with why this stack needs it.
 * Empty: no function of the stack needs one. Add an entry only with its reason.
 */
export const WILDCARD_RESOURCE_ALLOWLIST: ReadonlyArray<{ action: string; reason: string }> = [
  { action: 'ecr:GetAuthorizationToken', reason: 'the ECR login has no resource: AWS allows it on "*" only (the ETL task pulling its image)' },
];

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/**
 * What breaks least privilege in a document: an Allow with a wildcard action (`*`,
 * `s3:*`, `s3:Get*`), or an Allow on resource `*` for an action not in the allowlist.
 * Deny statements may be as broad as they like: they only take rights away.
 */
export function wildcardViolations(document: unknown): string[] {
  const out: string[] = [];
  const raw = (document as { Statement?: unknown } | null)?.Statement;
  const statements: unknown[] = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  statements.forEach((entry, i) => {
    const s = entry as Partial<Statement>;
    if (s.Effect !== 'Allow') return;
    const where = s.Sid ?? `statement ${i}`;
    const actions = list(s.Action);
    for (const a of actions) if (a.includes('*')) out.push(`${where}: wildcard action "${a}"`);
    if ((s as { NotAction?: unknown }).NotAction !== undefined) out.push(`${where}: NotAction in an Allow`);
    if ((s as { NotResource?: unknown }).NotResource !== undefined) out.push(`${where}: NotResource in an Allow`);
    if (list(s.Resource).includes('*')) {
      for (const a of actions) {
        if (!WILDCARD_RESOURCE_ALLOWLIST.some((w) => w.action === a)) out.push(`${where}: "${a}" on resource "*"`);
      }
    }
  });
  return out;
}
