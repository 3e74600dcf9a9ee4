/**
 * The whole stack (supabase mode), run against Pulumi mocks: what `pulumi up` would
 * create, and the rules it must keep — a locked-down bucket, least-privilege IAM,
 * secrets only in Secrets Manager, the functions' code from `npm run build`.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_NAMES } from '../../loader/warehouse';
import { bundleDir, LAMBDA_NAMES } from '../../infra/bundles';
import { derivePassword, roleNames } from '../../infra/connection';
import { BATCH_MARKER } from '../../infra/loader-function';
import { migrationsHash, readMigrationFiles } from '../../infra/migrations';
import { wildcardViolations, type PolicyDocument, type Statement } from '../../infra/policies';
import { ACCOUNT, baseConfig, FAKE, runStack, resolvedValue, type MockedResource, type StackRun } from './support/stack';
import { eachString, isSecretWrapper, unwrap } from './support/walk';

let run: StackRun;
beforeAll(async () => {
  run = await runStack(baseConfig());
}, 180_000); // the first test file to run builds dist/ (support/bundles.ts)

const fn = (name: string) => run.one('aws:lambda/function:Function', `${name}-function`);
const policyOf = (name: string): PolicyDocument => JSON.parse(run.one('aws:iam/rolePolicy:RolePolicy', `${name}-policy`).inputs.policy);
const actionsOn = (doc: PolicyDocument) => {
  const out: Record<string, string[]> = {};
  for (const s of doc.Statement) {
    for (const a of ([] as string[]).concat(s.Action)) out[a] = [...(out[a] ?? []), ...([] as string[]).concat(s.Resource ?? [])];
  }
  return out;
};
const bucket = () => run.one('aws:s3/bucket:Bucket');
const bucketArn = () => bucket().state.arn as string;

describe('the drop bucket', () => {
  it('blocks public access, enforces bucket ownership, encrypts and versions', () => {
    const pab = run.one('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').inputs;
    expect(pab).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(pab.bucket).toBe(bucket().state.bucket);
    expect(run.one('aws:s3/bucketOwnershipControls:BucketOwnershipControls').inputs.rule.objectOwnership).toBe('BucketOwnerEnforced');
    const sse = run.one('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration').inputs;
    expect(sse.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe('AES256');
    expect(run.one('aws:s3/bucketVersioning:BucketVersioning').inputs.versioningConfiguration.status).toBe('Enabled');
  });

  it('denies every request that does not use TLS', () => {
    const policy = JSON.parse(run.one('aws:s3/bucketPolicy:BucketPolicy').inputs.policy) as PolicyDocument;
    const deny = policy.Statement.find((s) => s.Effect === 'Deny');
    expect(deny).toBeDefined();
    expect(deny!.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    expect(deny!.Action).toBe('s3:*');
    expect(deny!.Principal).toBe('*');
    expect(deny!.Resource).toEqual([bucketArn(), `${bucketArn()}/*`]);
  });

  it('expires processed/, failed/ and refused/ copies, old versions and abandoned uploads', () => {
    const rules = run.one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration').inputs.rules as any[];
    const byPrefix = (p: string) => rules.find((r) => r.filter?.prefix === p);
    expect(byPrefix('processed/')).toMatchObject({ status: 'Enabled', expiration: { days: 30 } });
    expect(byPrefix('failed/')).toMatchObject({ status: 'Enabled', expiration: { days: 90 } });
    expect(byPrefix('refused/')).toMatchObject({ status: 'Enabled', expiration: { days: 90 } });
    expect(byPrefix('')).toMatchObject({ noncurrentVersionExpiration: { noncurrentDays: 30 }, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } });
  });
});

describe('the loader', () => {
  it('is invoked by S3 for .csv and .json files (the batch marker included), with S3 allowed to', () => {
    const n = run.one('aws:s3/bucketNotification:BucketNotification').inputs;
    expect(n.bucket).toBe(bucket().state.bucket);
    const loaderArn = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:bs-test-loader`;
    expect(n.lambdaFunctions.map((f: any) => f.filterSuffix).sort()).toEqual(['.csv', '.json']);
    for (const f of n.lambdaFunctions) {
      expect(f.lambdaFunctionArn).toBe(loaderArn);
      expect(f.events).toEqual(['s3:ObjectCreated:*']);
      expect(f.filterPrefix).toBeUndefined();
    }
    expect(n.lambdaFunctions.some((f: any) => BATCH_MARKER.endsWith(f.filterSuffix))).toBe(true);
    const permission = run.one('aws:lambda/permission:Permission', 'loader-s3').inputs;
    expect(permission).toMatchObject({
      action: 'lambda:InvokeFunction',
      function: 'bs-test-loader',
      principal: 's3.amazonaws.com',
      sourceArn: bucketArn(),
      sourceAccount: ACCOUNT,
    });
  });

  it('is sized for large files and sends failed events to an encrypted dead-letter queue', () => {
    const loader = fn('loader').inputs;
    expect(loader.timeout).toBe(900);
    expect(loader.memorySize).toBeGreaterThanOrEqual(1024);
    expect(loader.ephemeralStorage.size).toBeGreaterThanOrEqual(1024);
    const dlq = run.one('aws:sqs/queue:Queue', 'loader-dlq');
    expect(dlq.inputs.sqsManagedSseEnabled).toBe(true);
    expect(loader.deadLetterConfig.targetArn).toBe(dlq.state.arn);
    expect(actionsOn(policyOf('loader'))['sqs:SendMessage']).toEqual([dlq.state.arn]);
    expect(run.one('aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig', 'loader').inputs.maximumRetryAttempts).toBe(2);
  });

  it('raises alarms on its errors and on dead letters', () => {
    const alarms = run.ofType('aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => a.inputs);
    const topic = run.one('aws:sns/topic:Topic').state.arn;
    const errors = alarms.find((a) => a.metricName === 'Errors' && a.dimensions.FunctionName === 'bs-test-loader');
    expect(errors).toMatchObject({ namespace: 'AWS/Lambda', threshold: 1, alarmActions: [topic] });
    const dead = alarms.find((a) => a.namespace === 'AWS/SQS');
    expect(dead).toMatchObject({ metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: run.one('aws:sqs/queue:Queue').state.name } });
    expect(alarms.some((a) => a.dimensions?.FunctionName === 'bs-test-worker')).toBe(true);
    expect(run.one('aws:sns/topicSubscription:TopicSubscription').inputs).toMatchObject({ protocol: 'email', endpoint: 'ops@example.com' });
  });
});

describe('the worker and the bot', () => {
  it('runs the worker every five minutes and lets only the bot and the loader invoke it', () => {
    const rule = run.one('aws:cloudwatch/eventRule:EventRule');
    expect(rule.inputs.scheduleExpression).toBe('rate(5 minutes)');
    const workerArn = fn('worker').state.arn;
    expect(run.one('aws:cloudwatch/eventTarget:EventTarget').inputs).toMatchObject({ rule: rule.state.name, arn: workerArn });
    expect(run.one('aws:lambda/permission:Permission', 'worker-schedule').inputs).toMatchObject({
      principal: 'events.amazonaws.com',
      sourceArn: rule.state.arn,
    });
    for (const name of ['bot', 'loader']) expect(actionsOn(policyOf(name))['lambda:InvokeFunction']).toEqual([workerArn]);
    for (const name of ['worker', 'migrate']) expect(actionsOn(policyOf(name))['lambda:InvokeFunction']).toBeUndefined();
  });

  it('serves the bot at a public Function URL (Slack signs its requests), which is a stack output', async () => {
    const url = run.one('aws:lambda/functionUrl:FunctionUrl', 'bot-url');
    expect(url.inputs).toMatchObject({ functionName: 'bs-test-bot', authorizationType: 'NONE' });
    expect(await resolvedValue(run.program.slackRequestUrl as string)).toBe(url.state.functionUrl);
    expect(run.one('aws:lambda/permission:Permission', 'bot-url-invoke').inputs).toMatchObject({
      action: 'lambda:InvokeFunctionUrl',
      principal: '*',
      functionUrlAuthType: 'NONE',
    });
  });
});

describe('least privilege', () => {
  /** Every policy document in the inputs of every resource, wherever it sits. */
  function policyDocuments(): { where: string; doc: PolicyDocument }[] {
    const docs: { where: string; doc: PolicyDocument }[] = [];
    for (const r of run.resources) {
      eachString(unwrap(r.inputs), (s, p) => {
        if (!s.includes('"Statement"')) return;
        docs.push({ where: `${r.type} ${r.name} ${p}`, doc: JSON.parse(s) });
      });
    }
    return docs;
  }

  it('has no wildcard action, and no "*" resource outside the allowlist, in any policy of the stack', () => {
    const docs = policyDocuments();
    // Four functions: a trust policy and an inline policy each; and the bucket policy.
    expect(docs.length).toBeGreaterThanOrEqual(9);
    const violations = docs.flatMap((d) => wildcardViolations(d.doc).map((v) => `${d.where}: ${v}`));
    expect(violations).toEqual([]);
    // No managed policy (AWSLambdaBasicExecutionRole allows logs on "*").
    expect(run.ofType('aws:iam/rolePolicyAttachment:RolePolicyAttachment')).toEqual([]);
    for (const role of run.ofType('aws:iam/role:Role')) expect(role.inputs.managedPolicyArns ?? []).toEqual([]);
  });

  it('the wildcard rule itself catches what it must', () => {
    const bad: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
        { Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: '*' },
        { Effect: 'Allow', Action: '*', Resource: ['arn:x'] },
      ] as Statement[],
    };
    expect(wildcardViolations(bad)).toHaveLength(3);
  });

  it('gives each function exactly its actions, on its own resources', () => {
    const secretArn = (name: string) => run.one('aws:secretsmanager/secret:Secret', name).state.arn as string;
    const logs = (name: string) => [`arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/lambda/bs-test-${name}:*`];
    const workerArn = fn('worker').state.arn;
    const dlq = run.one('aws:sqs/queue:Queue').state.arn;
    expect(actionsOn(policyOf('loader'))).toEqual({
      'logs:CreateLogStream': logs('loader'),
      'logs:PutLogEvents': logs('loader'),
      's3:GetObject': [`${bucketArn()}/*`],
      's3:GetObjectVersion': [`${bucketArn()}/*`],
      's3:ListBucket': [bucketArn()],
      's3:PutObject': [`${bucketArn()}/processed/*`, `${bucketArn()}/failed/*`, `${bucketArn()}/refused/*`],
      'sqs:SendMessage': [dlq],
      'secretsmanager:GetSecretValue': [secretArn('database-url-loader'), secretArn('slack-bot-token')],
      'lambda:InvokeFunction': [workerArn],
    });
    expect(actionsOn(policyOf('worker'))).toEqual({
      'logs:CreateLogStream': logs('worker'),
      'logs:PutLogEvents': logs('worker'),
      's3:GetObject': [`${bucketArn()}/*`],
      's3:GetObjectVersion': [`${bucketArn()}/*`],
      's3:ListBucket': [bucketArn()],
      'secretsmanager:GetSecretValue': [secretArn('database-url-loader'), secretArn('slack-bot-token')],
    });
    expect(actionsOn(policyOf('bot'))).toEqual({
      'logs:CreateLogStream': logs('bot'),
      'logs:PutLogEvents': logs('bot'),
      'secretsmanager:GetSecretValue': [secretArn('database-url-loader'), secretArn('slack-signing-secret'), secretArn('slack-bot-token')],
      'lambda:InvokeFunction': [workerArn],
    });
    expect(actionsOn(policyOf('migrate'))).toEqual({
      'logs:CreateLogStream': logs('migrate'),
      'logs:PutLogEvents': logs('migrate'),
      'secretsmanager:GetSecretValue': [secretArn('database-url-migrator')],
    });
  });

  it('writes each function log to its own group, with a retention', () => {
    for (const name of LAMBDA_NAMES) {
      const group = run.one('aws:cloudwatch/logGroup:LogGroup', `${name}-logs`).inputs;
      expect(group).toMatchObject({ name: `/aws/lambda/bs-test-${name}`, retentionInDays: 30 });
      expect(fn(name).inputs.loggingConfig.logGroup).toBe(group.name);
    }
  });
});

describe('secrets', () => {
  const derived = Object.values(roleNames('bs-test')).map((r) => derivePassword(FAKE.seed, r));
  const secretValues = [...Object.values(FAKE), ...derived];

  it('no Lambda environment variable holds a secret value: only secret ARNs', () => {
    const functions = run.ofType('aws:lambda/function:Function');
    expect(functions).toHaveLength(LAMBDA_NAMES.length);
    for (const f of functions) {
      const vars = unwrap(f.inputs.environment.variables) as Record<string, string>;
      for (const [key, value] of Object.entries(vars)) {
        for (const secret of secretValues) expect(value, `${f.name} ${key}`).not.toContain(secret);
        expect(value, `${f.name} ${key}`).not.toMatch(/postgres(ql)?:\/\/|xox[bp]-/);
        if (/SECRET|TOKEN|PASSWORD|DATABASE/.test(key) && key !== 'SECRETS_REVISION') {
          expect(value, `${f.name} ${key}`).toMatch(/^arn:aws:secretsmanager:/);
        }
      }
      // Every secret a function is told about, it may read; and nothing more.
      const arns = Object.entries(vars)
        .filter(([k]) => k.endsWith('_SECRET_ARN'))
        .map(([, v]) => v)
        .sort();
      const readable = policyOf(f.name.replace(/-function$/, '').replace(/^database-/, '')).Statement.filter((s) =>
        ([] as string[]).concat(s.Action).includes('secretsmanager:GetSecretValue'),
      );
      expect(([] as string[]).concat(...readable.map((s) => s.Resource ?? [])).sort()).toEqual(arns);
    }
  });

  it('keeps every secret value inside a Pulumi secret, wherever it is used', () => {
    const leaks: string[] = [];
    const where: Record<string, Set<string>> = {};
    for (const r of run.resources) {
      eachString(r.inputs, (s, p, secret) => {
        for (const v of secretValues) {
          if (!s.includes(v)) continue;
          if (!secret) leaks.push(`${r.type} ${r.name} ${p}`);
          (where[r.type] ??= new Set()).add(p);
        }
      });
    }
    expect(leaks).toEqual([]);
    expect(Object.keys(where).sort()).toEqual(['aws:secretsmanager/secretVersion:SecretVersion', 'postgresql:index/role:Role', 'pulumi:providers:postgresql']);
  });

  it('stores the Slack secrets and the loader role connection string in Secrets Manager', () => {
    const value = (name: string) => unwrap(run.one('aws:secretsmanager/secretVersion:SecretVersion', `${name}-value`).inputs.secretString);
    expect(value('slack-signing-secret')).toBe(FAKE.signingSecret);
    expect(value('slack-bot-token')).toBe(FAKE.botToken);
    const loaderUrl = new URL(value('database-url-loader'));
    // Supabase's pooler: <role>.<project ref>
    expect(decodeURIComponent(loaderUrl.username)).toBe('bs_test_loader.abcdefghij');
    expect(loaderUrl.password).toBe(derivePassword(FAKE.seed, 'bs_test_loader'));
    expect(loaderUrl.host).toBe('aws-0-eu-west-1.pooler.supabase.com:5432');
    expect(new URL(value('database-url-migrator')).username).toBe('bs_test_migrator.abcdefghij');
  });
});

describe('the functions code', () => {
  it('comes from the bundles npm run build writes, dist/<name>, for all four functions', async () => {
    const paths: Record<string, string> = {};
    for (const name of LAMBDA_NAMES) {
      const f = fn(name).inputs;
      paths[name] = await f.code.path;
      expect(f.handler).toBe('index.handler');
      expect(f.runtime).toMatch(/^nodejs(2[0-9])\.x$/);
    }
    expect(paths).toEqual(Object.fromEntries(LAMBDA_NAMES.map((n) => [n, bundleDir(n)])));
    for (const p of Object.values(paths)) expect(p.endsWith(path.join('dist', path.basename(p)))).toBe(true);
  });
});

describe('the database', () => {
  const roleInputs = (name: string) => run.one('postgresql:index/role:Role', `database-${name}`).inputs;

  it('creates the migrator, loader and reader roles, and the tracker for Supabase API', () => {
    expect(roleInputs('migrator')).toMatchObject({ name: 'bs_test_migrator', login: true });
    expect(isSecretWrapper(roleInputs('migrator').password)).toBe(true);
    expect(roleInputs('loader')).toMatchObject({ name: 'bs_test_loader', login: true, roles: ['benchsight_service'] });
    expect(roleInputs('reader')).toMatchObject({ name: 'bs_test_reader', login: true, roles: ['benchsight_service'] });
    expect(roleInputs('service')).toMatchObject({ name: 'benchsight_service', login: false });
    expect(roleInputs('tracker')).toMatchObject({ name: 'tracker', login: false });
    expect(run.one('postgresql:index/grantRole:GrantRole').inputs).toMatchObject({ role: 'authenticator', grantRole: 'tracker' });
    const provider = unwrap(run.one('pulumi:providers:postgresql').inputs);
    expect(provider).toMatchObject({ host: 'aws-0-eu-west-1.pooler.supabase.com', username: 'postgres.abcdefghij', database: 'postgres' });
  });

  it('grants least privilege: the migrator creates, the loader writes tables, the reader reads the warehouse', () => {
    const grants: Record<string, any> = Object.fromEntries(run.ofType('postgresql:index/grant:Grant').map((g) => [g.name.replace('database-', ''), g.inputs]));
    expect(grants['migrator-schema']).toMatchObject({ role: 'bs_test_migrator', objectType: 'schema', privileges: ['CREATE', 'USAGE'] });
    expect(grants['loader-schema']).toMatchObject({ objectType: 'schema', privileges: ['USAGE'] });
    const loaderTables = grants['loader-tables'];
    expect(loaderTables.privileges).toEqual(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']);
    expect(loaderTables.objects).toEqual(expect.arrayContaining([...TABLE_NAMES, 'load_history', 'load_rejects', 'etl_queue', 'staging_events']));
    expect(loaderTables.objects).not.toContain('schema_migrations');
    expect(loaderTables.objects).not.toContain('warehouse_tables');
    expect(grants['loader-catalog']).toMatchObject({ privileges: ['SELECT'], objects: expect.arrayContaining(['warehouse_tables', 'schema_migrations']) });
    expect(grants['loader-functions']).toMatchObject({ objectType: 'function', objects: [], privileges: ['EXECUTE'] });
    expect(grants['reader-tables']).toMatchObject({ role: 'bs_test_reader', privileges: ['SELECT'], objects: [...TABLE_NAMES] });
    const defaults = run.ofType('postgresql:index/defaultPrivileges:DefaultPrivileges').map((d) => d.inputs);
    expect(defaults).toContainEqual(
      expect.objectContaining({ owner: 'bs_test_migrator', role: 'bs_test_loader', objectType: 'function', privileges: ['EXECUTE'] }),
    );
    // The landing schema (000003) is the loader's to fill and empty.
    expect(grants['loader-landing-schema']).toMatchObject({ role: 'bs_test_loader', objectType: 'schema', schema: 'landing', privileges: ['USAGE'] });
    expect(grants['loader-landing-tables']).toMatchObject({ schema: 'landing', objects: [], privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] });
    expect(defaults).toContainEqual(expect.objectContaining({ schema: 'landing', role: 'bs_test_loader', objectType: 'table' }));
    // Nothing of the reader's outside the warehouse tables of public.
    const readerGrants = Object.entries(grants)
      .filter(([, g]) => g.role === 'bs_test_reader')
      .map(([id]) => id)
      .sort();
    expect(readerGrants).toEqual(['reader-schema', 'reader-tables']);
  });

  it('runs the migrate function during the deploy, again whenever sql/migrations changes', async () => {
    const invocation = run.one('aws:lambda/invocation:Invocation').inputs;
    const hash = migrationsHash(readMigrationFiles());
    expect(invocation.functionName).toBe('bs-test-migrate');
    expect(invocation.triggers.migrations).toBe(hash);
    expect(JSON.parse(invocation.input)).toMatchObject({ migrationsHash: hash });
    expect(fn('migrate').inputs.environment.variables.DATABASE_SECRET_ARN).toBe(run.one('aws:secretsmanager/secret:Secret', 'database-url-migrator').state.arn);
    expect(await resolvedValue(run.program.migrationsHash as string)).toBe(hash);
  });

  it('gives the functions that run the load engine (loader, worker) a small young generation, and only those', () => {
    const opts = (name: string) => String(fn(name).inputs.environment.variables.NODE_OPTIONS);
    for (const name of ['loader', 'worker']) expect(opts(name)).toContain('--max-semi-space-size=2');
    for (const name of ['migrate']) expect(opts(name)).toBe('--enable-source-maps');
  });
});

describe('protection, names and limits', () => {
  it('protects the bucket, the secrets and the database roles (the protect setting, on by default), without retaining them', () => {
    const stateful = [...run.ofType('aws:s3/bucket:Bucket'), ...run.ofType('aws:secretsmanager/secret:Secret'), ...run.ofType('postgresql:index/role:Role')];
    expect(stateful.length).toBe(1 + 5 + 5);
    for (const r of stateful) expect(r.options, `${r.type} ${r.name}`).toMatchObject({ protect: true, retainOnDelete: false });
    // Nothing else: functions, policies and alarms are replaced and deleted freely.
    expect(run.resources.filter((r) => r.options?.protect && !stateful.includes(r)).map((r) => `${r.type} ${r.name}`)).toEqual([]);
  });

  it('reserves concurrency for the loader, the worker and the bot (the database pool and the public URL)', () => {
    expect(fn('loader').inputs.reservedConcurrentExecutions).toBe(3);
    expect(fn('worker').inputs.reservedConcurrentExecutions).toBe(1);
    expect(fn('bot').inputs.reservedConcurrentExecutions).toBe(5);
    expect(fn('migrate').inputs.reservedConcurrentExecutions).toBe(-1);
  });

  it('opens few admin connections, and gives the provider the role behind the pooler login (for REASSIGN OWNED on destroy)', () => {
    const provider = unwrap(run.one('pulumi:providers:postgresql').inputs);
    expect(provider).toMatchObject({ username: 'postgres.abcdefghij', databaseUsername: 'postgres', maxConnections: '4', superuser: 'false' });
  });

  it('tells the migrate function who may read the warehouse through the API (authenticated only, by default)', () => {
    const invocation = run.one('aws:lambda/invocation:Invocation').inputs;
    expect(JSON.parse(invocation.input)).toMatchObject({ apiAnonRead: false });
    expect(invocation.triggers.apiAnonRead).toBe('false');
  });

  it('grants the migrator CREATE on the database before the migrations run (000003 makes schema landing)', () => {
    const grant = run.one('postgresql:index/grant:Grant', 'database-migrator-database');
    expect(grant.inputs).toMatchObject({ role: 'bs_test_migrator', objectType: 'database', database: 'postgres', privileges: ['CREATE'] });
    expect(run.one('aws:lambda/invocation:Invocation').options?.dependsOn).toContain('postgresql:index/grant:Grant::database-migrator-database');
  });
});

describe('the stack', () => {
  it('exports the Slack app manifest with the bot request URL in it', async () => {
    const manifest = await resolvedValue(run.program.slackAppManifest as string);
    const url = run.one('aws:lambda/functionUrl:FunctionUrl', 'bot-url').state.functionUrl as string;
    expect(manifest.match(new RegExp(`url: ${url}slack/events`, 'g'))).toHaveLength(2);
    expect(manifest).not.toContain('REPLACE');
    expect(manifest).toContain('command: /benchsight');
    expect(manifest).toMatch(/^# The BenchSight Slack app of stack dev/);
  });

  it('exports the bucket, the Slack request URL, the worker and the database role names', async () => {
    expect(await resolvedValue(run.program.bucketName as string)).toBe(bucket().state.bucket);
    expect(await resolvedValue(run.program.workerFunctionName as string)).toBe('bs-test-worker');
    expect(await resolvedValue(run.program.databaseRoles as object)).toEqual({
      migrator: 'bs_test_migrator',
      loader: 'bs_test_loader',
      reader: 'bs_test_reader',
      service: 'benchsight_service',
      tracker: 'tracker',
    });
  });

  it('groups every resource into a component (each child is created with parent: this)', () => {
    const orphans = run.resources
      .filter((r: MockedResource) => !r.type.startsWith('benchsight:infra:'))
      .filter((r) => !run.parentType(r)?.startsWith('benchsight:infra:'))
      .map((r) => `${r.type} ${r.name}`);
    expect(orphans).toEqual([]);
  });
});
