/**
 * The policy pack (infra/policy-pack) run over the program's resources under mocks, as
 * `pulumi preview --policy-pack infra/policy-pack` runs it over a preview: each rule gets
 * the arguments @pulumi/policy gives it (type, props, URN, options, dependencies). The
 * stack is named prod, so the production rule applies. Each rule is also shown to catch
 * what it is for, on a copy of the resources with one thing broken.
 */
import type { PolicyResource, ResourceValidationArgs, StackValidationPolicy } from '@pulumi/policy';
import { beforeAll, describe, expect, it } from 'vitest';
import { POLICIES } from '../../infra/policy-pack/rules';
import { baseConfig, type MockedResource, runStack, type StackRun } from './support/stack';
import { unwrap } from './support/walk';

let run: StackRun;
beforeAll(async () => {
  run = await runStack(baseConfig({ 'benchsight-ops:namePrefix': 'benchsight-prod' }), { stack: 'prod' });
}, 180_000);

const isTypeOf = (type: string) => (cls: { __pulumiType?: string }) => cls.__pulumiType === type;

function policyResources(resources: MockedResource[]): PolicyResource[] {
  const byKey = new Map<string, PolicyResource>();
  const out = resources.map((r) => {
    const p: PolicyResource = {
      type: r.type,
      name: r.name,
      urn: r.options?.urn ?? `urn:pulumi:prod::benchsight-ops::${r.type}::${r.name}`,
      props: unwrap(r.inputs),
      opts: {
        protect: Boolean(r.options?.protect),
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
      },
      dependencies: [],
      propertyDependencies: {},
      isType: isTypeOf(r.type) as PolicyResource['isType'],
      asType: ((cls: { __pulumiType?: string }) => (isTypeOf(r.type)(cls) ? unwrap(r.inputs) : undefined)) as PolicyResource['asType'],
    };
    byKey.set(`${r.type}::${r.name}`, p);
    return p;
  });
  resources.forEach((r, i) => {
    const p = out[i]!;
    p.dependencies = (r.options?.dependsOn ?? []).map((k) => byKey.get(k)).filter((x): x is PolicyResource => !!x);
    for (const [prop, keys] of Object.entries(r.options?.propertyDependencies ?? {})) {
      p.propertyDependencies[prop] = keys.map((k) => byKey.get(k)).filter((x): x is PolicyResource => !!x);
    }
  });
  return out;
}

/** Every violation the pack reports over `resources`: `<policy>: <resource>: <message>`. */
function violations(resources: MockedResource[], config = { productionStacks: ['prod'] }): string[] {
  const found: string[] = [];
  const policyResourcesList = policyResources(resources);
  for (const policy of POLICIES) {
    if ('validateResource' in policy && policy.validateResource) {
      const validate = policy.validateResource as (args: ResourceValidationArgs, report: (message: string) => void) => void;
      for (const r of policyResourcesList) {
        const args: ResourceValidationArgs = {
          ...r,
          stackTags: new Map(),
          getConfig: <T>() => config as T,
          notApplicable: () => {
            throw new Error('not applicable');
          },
        } as unknown as ResourceValidationArgs;
        void validate(args, (message) => found.push(`${policy.name}: ${r.name}: ${message}`));
      }
    }
    if ('validateStack' in policy) {
      const validate = (policy as StackValidationPolicy).validateStack!;
      void validate(
        {
          resources: policyResourcesList,
          stackTags: new Map(),
          getConfig: <T>() => config as T,
          notApplicable: () => {
            throw new Error('not applicable');
          },
        },
        (message) => found.push(`${policy.name}: ${message}`),
      );
    }
  }
  return found;
}

/** A copy of the resources with `change` applied to the one named `name`. */
function tampered(name: string, change: (r: MockedResource) => void): MockedResource[] {
  return run.resources.map((r) => {
    if (r.name !== name) return r;
    const copy = structuredClone({ ...r, inputs: unwrap(r.inputs), options: r.options ? { ...r.options } : undefined }) as MockedResource;
    change(copy);
    return copy;
  });
}

describe('the policy pack', () => {
  it('passes the stack as the program builds it, a production stack included', () => {
    expect(run.resources.length).toBeGreaterThan(50);
    expect(violations(run.resources)).toEqual([]);
  });

  it('refuses a wildcard action in any policy document', () => {
    const broken = tampered('loader-policy', (r) => {
      const doc = JSON.parse(r.inputs.policy);
      doc.Statement.push({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' });
      r.inputs.policy = JSON.stringify(doc);
    });
    expect(violations(broken)).toEqual(['no-wildcard-iam-actions: loader-policy: policy: statement 7: wildcard action "s3:*"']);
  });

  it('refuses an IAM role description IAM would refuse, naming the character', () => {
    const broken = tampered('bot-role', (r) => {
      r.inputs.description = 'the Slack bot (/benchsight …)';
    });
    expect(violations(broken)).toEqual(['iam-description-latin1: bot-role: description "the Slack bot (/benchsight …)" holds "…" (U+2026), which IAM refuses']);
  });

  it('refuses a bucket without its public access block, or with one of its settings off', () => {
    const without = run.resources.filter((r) => r.type !== 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock');
    expect(violations(without)).toEqual(['bucket-public-access-block: bucket drop has no BucketPublicAccessBlock']);
    const off = tampered('drop-public-access', (r) => {
      r.inputs.blockPublicPolicy = false;
    });
    expect(violations(off)).toEqual(['bucket-public-access-block: bucket drop: its public access block leaves blockPublicPolicy off']);
  });

  it('refuses an unprotected bucket, secret or database role in a production stack, and only there', () => {
    const broken = tampered('drop', (r) => {
      r.options!.protect = false;
    });
    expect(violations(broken)).toEqual(['production-protection: drop: drop is not protected in production stack prod: set `pulumi config set protect true`']);
    expect(violations(broken, { productionStacks: ['production'] })).toEqual([]);
  });
});
