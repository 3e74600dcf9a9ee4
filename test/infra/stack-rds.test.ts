/**
 * The stack with `databaseMode: rds`: the stack creates an encrypted, TLS-only RDS
 * PostgreSQL and connects the roles to it; secrets stay out of the functions' environment.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { derivePassword, roleNames } from '../../infra/connection';
import { baseConfig, FAKE, runStack, type StackRun } from './support/stack';
import { constraintViolations } from './support/constraints';
import { eachString, unwrap } from './support/walk';

let run: StackRun;
beforeAll(async () => {
  run = await runStack(
    baseConfig({
      'benchsight-ops:databaseMode': 'rds',
      'benchsight-ops:databaseUrl': undefined,
      'benchsight-ops:rdsAllowedCidrs': '["203.0.113.0/24"]',
      'benchsight-ops:rdsDeletionProtection': 'true',
      // prod-like: retained when the stack is destroyed; not protected (the setting's other value)
      'benchsight-ops:protect': 'false',
      'benchsight-ops:retainOnDelete': 'true',
      'benchsight-ops:rdsVpcId': 'vpc-0abc123',
      'benchsight-ops:rdsSubnetIds': '["subnet-0aaa111","subnet-0bbb222"]',
    }),
  );
}, 180_000); // the first test file to run builds dist/ (support/bundles.ts)

describe('the stack on RDS', () => {
  it('creates an encrypted PostgreSQL instance that only accepts TLS, from the allowed networks', () => {
    const db = run.one('aws:rds/instance:Instance').inputs;
    expect(db).toMatchObject({
      identifier: 'bs-test-db',
      engine: 'postgres',
      engineVersion: '16',
      storageEncrypted: true,
      deletionProtection: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: 'bs-test-db-final',
    });
    expect(unwrap(db.password)).toBe(derivePassword(FAKE.seed, 'bs-test:rds-master'));
    const params = run.one('aws:rds/parameterGroup:ParameterGroup').inputs;
    expect(params.family).toBe('postgres16');
    expect(params.parameters).toContainEqual({ name: 'rds.force_ssl', value: '1' });
    const sg = run.one('aws:ec2/securityGroup:SecurityGroup').inputs;
    expect(sg.ingress).toEqual([expect.objectContaining({ fromPort: 5432, toPort: 5432, cidrBlocks: ['203.0.113.0/24'] })]);
  });

  it('keeps the instance, the roles, the secrets and the bucket when the stack is destroyed (retainOnDelete), as set', () => {
    for (const type of ['aws:rds/instance:Instance', 'aws:s3/bucket:Bucket', 'aws:secretsmanager/secret:Secret', 'postgresql:index/role:Role']) {
      for (const r of run.ofType(type)) expect(r.options, `${type} ${r.name}`).toMatchObject({ protect: false, retainOnDelete: true });
    }
    expect(unwrap(run.one('pulumi:providers:postgresql').inputs).databaseUsername).toBe('benchsight_admin');
  });

  it('places the instance in the VPC and subnets set (an account may have no default VPC)', () => {
    const subnets = run.one('aws:rds/subnetGroup:SubnetGroup');
    expect(subnets.inputs.subnetIds).toEqual(['subnet-0aaa111', 'subnet-0bbb222']);
    expect(run.one('aws:rds/instance:Instance').inputs.dbSubnetGroupName).toBe(subnets.state.name);
    expect(run.one('aws:ec2/securityGroup:SecurityGroup').inputs.vpcId).toBe('vpc-0abc123');
    expect(constraintViolations(run.resources, 'bs-test')).toEqual([]);
  });

  it('connects the provider and the roles to the instance, and makes no tracker role', () => {
    const provider = unwrap(run.one('pulumi:providers:postgresql').inputs);
    expect(provider).toMatchObject({
      host: 'bs-test-db.abc.eu-west-1.rds.amazonaws.com',
      username: 'benchsight_admin',
      database: 'benchsight',
      sslmode: 'require',
    });
    expect(
      run
        .ofType('postgresql:index/role:Role')
        .map((r) => r.inputs.name)
        .sort(),
    ).toEqual(['benchsight_service', 'bs_test_loader', 'bs_test_migrator', 'bs_test_reader']);
    expect(run.ofType('postgresql:index/grantRole:GrantRole')).toEqual([]);
    const loaderUrl = new URL(unwrap(run.one('aws:secretsmanager/secretVersion:SecretVersion', 'database-url-loader-value').inputs.secretString));
    expect(loaderUrl.username).toBe('bs_test_loader');
    expect(loaderUrl.searchParams.get('sslmode')).toBe('verify-full');
    for (const f of run.ofType('aws:lambda/function:Function')) {
      expect(f.inputs.environment.variables.NODE_EXTRA_CA_CERTS).toBe('/var/runtime/ca-cert.pem');
    }
  });

  it('keeps the master and role passwords out of the functions and inside Pulumi secrets', () => {
    const secrets = [
      FAKE.seed,
      derivePassword(FAKE.seed, 'bs-test:rds-master'),
      ...Object.values(roleNames('bs-test')).map((r) => derivePassword(FAKE.seed, r)),
    ];
    const leaks: string[] = [];
    for (const r of run.resources) {
      eachString(r.inputs, (s, p, secret) => {
        if (secrets.some((v) => s.includes(v)) && (!secret || r.type === 'aws:lambda/function:Function')) leaks.push(`${r.type} ${r.name} ${p}`);
      });
    }
    expect(leaks).toEqual([]);
  });
});
