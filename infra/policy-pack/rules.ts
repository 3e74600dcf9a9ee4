/**
 * The project's deployment rules as a Pulumi policy pack (@pulumi/policy, CrossGuard):
 * `pulumi preview --policy-pack infra/policy-pack` checks every resource the program would
 * create against them before AWS sees it. The rules are plain objects here so that the
 * tests run them over the program's resources under mocks (test/infra/policy-pack.test.ts);
 * index.ts serves them as the pack.
 */
import type { PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { wildcardViolations } from '../policies';

/** Characters IAM accepts in a role's description (CreateRole refuses others, the preview does not). */
export const IAM_DESCRIPTION_CHARSET = /^[\t\n\r\u0020-\u007E\u00A1-\u00FF]*$/;

/** Resources that hold data or reach it: protected in production stacks. */
export const STATEFUL_TYPES = ['aws:s3/bucket:Bucket', 'aws:secretsmanager/secret:Secret', 'postgresql:index/role:Role', 'aws:rds/instance:Instance'];

/** The stacks that count as production (policy config `productionStacks`), by default `prod`. */
export interface PackConfig {
  productionStacks: string[];
}

const POLICY_DOCUMENT_PROPS: Record<string, string> = {
  'aws:iam/rolePolicy:RolePolicy': 'policy',
  'aws:iam/policy:Policy': 'policy',
  'aws:iam/role:Role': 'assumeRolePolicy',
  'aws:s3/bucketPolicy:BucketPolicy': 'policy',
};

const parse = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
};

/** The stack of a URN: urn:pulumi:<stack>::<project>::<type>::<name>. */
export const stackOf = (urn: string): string => urn.split(':')[2]?.split('::')[0] ?? '';

export const noWildcardActions: ResourceValidationPolicy = {
  name: 'no-wildcard-iam-actions',
  description: 'No Allow statement with a wildcard action, or on resource "*" outside the reasoned allowlist (infra/policies.ts).',
  enforcementLevel: 'mandatory',
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    const prop = POLICY_DOCUMENT_PROPS[args.type];
    if (!prop || args.props[prop] === undefined) return;
    for (const v of wildcardViolations(parse(args.props[prop]))) report(`${prop}: ${v}`);
  },
};

export const latin1Descriptions: ResourceValidationPolicy = {
  name: 'iam-description-latin1',
  description: 'IAM role descriptions hold only the characters IAM accepts (tab, newline, U+0020–U+007E, U+00A1–U+00FF).',
  enforcementLevel: 'mandatory',
  validateResource: (args, report) => {
    if (args.type !== 'aws:iam/role:Role') return;
    const description = args.props.description;
    if (typeof description !== 'string') return;
    const bad = [...description].filter((c) => !IAM_DESCRIPTION_CHARSET.test(c));
    if (bad.length)
      report(
        `description "${description}" holds ${bad.map((c) => `"${c}" (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`).join(', ')}, which IAM refuses`,
      );
  },
};

const bucketOf = (pab: PolicyResource): { names: unknown[]; urns: string[] } => ({
  names: [pab.props.bucket],
  urns: (pab.propertyDependencies.bucket ?? []).map((r) => r.urn),
});

export const publicAccessBlocked: StackValidationPolicy = {
  name: 'bucket-public-access-block',
  description: 'Every S3 bucket has a public access block with all four settings on.',
  enforcementLevel: 'mandatory',
  validateStack: (args, report) => {
    const blocks = args.resources.filter((r) => r.type === 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock');
    for (const bucket of args.resources.filter((r) => r.type === 'aws:s3/bucket:Bucket')) {
      const block = blocks.find((b) => {
        const of = bucketOf(b);
        return of.urns.includes(bucket.urn) || (bucket.props.bucket !== undefined && of.names.includes(bucket.props.bucket));
      });
      if (!block) {
        report(`bucket ${bucket.name} has no BucketPublicAccessBlock`, bucket.urn);
        continue;
      }
      const off = ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'].filter((k) => block.props[k] !== true);
      if (off.length) report(`bucket ${bucket.name}: its public access block leaves ${off.join(', ')} off`, block.urn);
    }
  },
};

export const productionProtected: ResourceValidationPolicy = {
  name: 'production-protection',
  description: 'In a production stack, the bucket, the secrets, the database roles and the RDS instance are protected (the stack setting protect).',
  enforcementLevel: 'mandatory',
  configSchema: { properties: { productionStacks: { type: 'array', items: { type: 'string' }, default: ['prod'] } } },
  validateResource: (args, report) => {
    if (!STATEFUL_TYPES.includes(args.type)) return;
    const { productionStacks } = args.getConfig<PackConfig>();
    const stack = stackOf(args.urn);
    if (productionStacks.includes(stack) && !args.opts.protect) {
      report(`${args.name} is not protected in production stack ${stack}: set \`pulumi config set protect true\``);
    }
  },
};

export const POLICIES: (ResourceValidationPolicy | StackValidationPolicy)[] = [noWildcardActions, latin1Descriptions, publicAccessBlocked, productionProtected];
