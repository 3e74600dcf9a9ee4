/**
 * Runs the Pulumi program (infra/index.ts) against mocks: no Pulumi CLI, no AWS. Mocks
 * and configuration are set before the program is imported (a static import would run
 * it first and its outputs would resolve to undefined). Every resource the program
 * registers is recorded with its inputs.
 */
import * as pulumi from '@pulumi/pulumi';
import { freshBundles } from './bundles';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

/** Distinctive fake secrets: a test fails if one shows up where it must not. */
export const FAKE = {
  adminPassword: 'FakeAdminPw-d41d8cd98f',
  seed: 'fake-password-seed-0f3c9a7e5b1d4c2a8e6f',
  signingSecret: 'feedfacecafebeef0123456789abcdef',
  botToken: 'xoxb-000000000-111111111-FakeBotTokenQz9',
};

export function baseConfig(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    'aws:region': REGION,
    'benchsight-ops:namePrefix': 'bs-test',
    'benchsight-ops:databaseMode': 'supabase',
    'benchsight-ops:databaseUrl': `postgresql://postgres.abcdefghij:${FAKE.adminPassword}@aws-0-eu-west-1.pooler.supabase.com:5432/postgres`,
    'benchsight-ops:databasePasswordSeed': FAKE.seed,
    'benchsight-ops:slackSigningSecret': FAKE.signingSecret,
    'benchsight-ops:slackBotToken': FAKE.botToken,
    'benchsight-ops:slackTeamId': 'T0TEST',
    // Who may do what, in Slack and in the Portal: the one setting.
    'benchsight-ops:roles': '{"admins":["U1","ada@league.example"],"operators":["U2"],"viewers":["*"]}',
    'benchsight-ops:slackNotifyChannel': 'C0TEST',
    'benchsight-ops:alarmEmail': 'ops@example.com',
    'benchsight-ops:portalSupabaseUrl': 'https://abcdefghij.supabase.co',
    'benchsight-ops:portalSupabaseAnonKey': 'anon-key-public-by-design',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

export const SECRET_KEYS = [
  'benchsight-ops:databaseUrl',
  'benchsight-ops:databasePasswordSeed',
  'benchsight-ops:slackSigningSecret',
  'benchsight-ops:slackBotToken',
];

export interface MockedResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  state: Record<string, any>;
  /** The resource options the program gave (from the registration the mocks saw). */
  options?: ResourceOptions;
}

export interface ResourceOptions {
  protect: boolean;
  retainOnDelete: boolean;
  /** `<type>::<name>` of each resource it waits for (dependsOn, and its inputs' resources). */
  dependsOn: string[];
  /** For each input, `<type>::<name>` of the resources its value comes from. */
  propertyDependencies: Record<string, string[]>;
  urn?: string;
}

const keyOfUrn = (urn: string) => {
  const [, , qualifiedType, name] = urn.split('::');
  const types = qualifiedType!.split('$');
  return `${types[types.length - 1]}::${name}`;
};

function fakeState(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
  const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
  switch (type) {
    case 'aws:s3/bucket:Bucket': {
      const bucket = `${inputs.bucketPrefix ?? name}a1b2c3`;
      return { id: bucket, state: { ...inputs, bucket, arn: `arn:aws:s3:::${bucket}` } };
    }
    case 'aws:lambda/function:Function':
      return { id: inputs.name, state: { ...inputs, arn: arn('lambda', `function:${inputs.name}`) } };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { id: inputs.name, state: { ...inputs, arn: arn('logs', `log-group:${inputs.name}`) } };
    case 'aws:iam/role:Role':
      return { id: `${name}-id`, state: { ...inputs, name: `${name}-id`, arn: `arn:aws:iam::${ACCOUNT}:role/${name}` } };
    case 'aws:secretsmanager/secret:Secret':
      return { id: `${name}-id`, state: { ...inputs, arn: arn('secretsmanager', `secret:${inputs.namePrefix}AbCdEf`) } };
    case 'aws:secretsmanager/secretVersion:SecretVersion':
      return { id: `${name}-id`, state: { ...inputs, versionId: `version-of-${name}` } };
    case 'aws:sqs/queue:Queue': {
      const q = `${inputs.namePrefix ?? name}x9`;
      return { id: q, state: { ...inputs, name: q, arn: arn('sqs', q), url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${q}` } };
    }
    case 'aws:lambda/functionUrl:FunctionUrl':
      return { id: `${name}-id`, state: { ...inputs, functionUrl: 'https://abcdefghijklmnop.lambda-url.eu-west-1.on.aws/' } };
    case 'aws:lambda/invocation:Invocation':
      return { id: `${name}-id`, state: { ...inputs, result: '{"applied":[],"version":6,"exposure":"applied"}' } };
    case 'aws:rds/instance:Instance':
      return {
        id: inputs.identifier,
        state: { ...inputs, address: `${inputs.identifier}.abc.${REGION}.rds.amazonaws.com`, port: 5432, arn: arn('rds', `db:${inputs.identifier}`) },
      };
    default:
      return { id: `${name}-id`, state: { ...inputs, name: inputs.name ?? name, arn: inputs.arn ?? arn('mock', `${type}/${name}`) } };
  }
}

export interface StackRun {
  resources: MockedResource[];
  /** The type of each resource's parent (`<type>::<name>` → parent type), from the URNs. */
  parentType(r: MockedResource): string | undefined;
  program: Record<string, unknown>;
  ofType(type: string): MockedResource[];
  one(type: string, namePart?: string): MockedResource;
}

/**
 * Sets mocks and configuration, imports the program and waits until it has registered
 * everything. dist/ is built first when it is not current: the program refuses stale bundles.
 */
export async function runStack(config: Record<string, string>, opts: { secretKeys?: string[]; stack?: string } = {}): Promise<StackRun> {
  const { secretKeys, stack = 'dev' } = opts;
  await freshBundles();
  const resources: MockedResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const r = fakeState(args.type, args.name, args.inputs);
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, state: r.state });
        return r;
      },
      call(args) {
        if (args.token === 'aws:index/getCallerIdentity:getCallerIdentity') {
          return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: 'AIDTEST', id: ACCOUNT };
        }
        throw new Error(`unexpected call ${args.token}`);
      },
    },
    'benchsight-ops',
    stack,
    false,
  );
  // The mocks do not hand resource options to newResource: read them from the registration.
  const options = new Map<string, ResourceOptions>();
  const mockMonitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: any, cb: unknown): unknown };
  const register = mockMonitor.registerResource.bind(mockMonitor);
  mockMonitor.registerResource = (req: any, cb: unknown) => {
    const deps = new Set<string>(req.getDependenciesList());
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((v: { getUrnsList(): string[] }, prop: string) => {
      propertyDependencies[prop] = v.getUrnsList().map(keyOfUrn);
      for (const urn of v.getUrnsList()) deps.add(urn);
    });
    options.set(`${req.getType()}::${req.getName()}`, {
      protect: Boolean(req.getProtect()),
      retainOnDelete: Boolean(req.getRetainondelete()),
      dependsOn: [...deps].map(keyOfUrn),
      propertyDependencies,
    });
    return register(req, cb);
  };
  pulumi.runtime.setAllConfig(config, secretKeys ?? SECRET_KEYS.filter((k) => k in config));
  const program = (await import('../../../infra/index')) as Record<string, unknown>;
  // Outputs resolve as resources register; wait for the exports, then for quiet.
  await Promise.all(Object.values(program).map((v) => (pulumi.Output.isInstance(v) ? resolvedValue(v) : v)));
  let seen = -1;
  while (seen !== resources.length) {
    seen = resources.length;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const r of resources) r.options = options.get(`${r.type}::${r.name}`);
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const monitor = pulumi.runtime.getMonitor() as unknown as { getRegisteredResources(): Map<string, unknown> };
  const parents = new Map<string, string | undefined>();
  for (const urn of monitor.getRegisteredResources().keys()) {
    const types = urn.split('::')[2]!.split('$');
    parents.set(keyOfUrn(urn), types.length > 1 ? types[types.length - 2] : undefined);
    const o = options.get(keyOfUrn(urn));
    if (o) o.urn = urn;
  }
  return {
    resources,
    parentType: (r) => parents.get(`${r.type}::${r.name}`),
    program,
    ofType,
    one(type, namePart) {
      const all = ofType(type);
      const exact = all.filter((r) => r.name === namePart);
      const found = exact.length ? exact : all.filter((r) => !namePart || r.name.includes(namePart));
      if (found.length !== 1) throw new Error(`expected one ${type}${namePart ? ` named *${namePart}*` : ''}, found ${found.length}`);
      return found[0]!;
    },
  };
}

export function resolvedValue<T>(o: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v as T)));
}
