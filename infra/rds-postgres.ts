/**
 * An RDS PostgreSQL instance for `databaseMode: rds`: encrypted storage, TLS forced,
 * backups. The functions run outside a VPC (as they do against Supabase), so the
 * instance is reachable on 5432 from `rdsAllowedCidrs` and protected like Supabase:
 * TLS and strong per-role passwords.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Keep } from './config';
import type { PostgresTarget } from './connection';

export interface RdsPostgresArgs {
  namePrefix: string;
  instanceClass: string;
  allocatedStorageGb: number;
  engineVersion: string;
  allowedCidrs: string[];
  deletionProtection: boolean;
  /** The VPC and subnets to place the instance in; unset: the region's default VPC. */
  network?: { vpcId: string; subnetIds: string[] };
  masterPassword: pulumi.Output<string>;
  keep: Keep;
}

export const RDS_DATABASE = 'benchsight';
export const RDS_ADMIN_USER = 'benchsight_admin';

export class RdsPostgres extends pulumi.ComponentResource {
  readonly instance: aws.rds.Instance;
  /** The admin's connection: TLS verified against Amazon's RDS CA (the functions trust it). */
  readonly admin: pulumi.Output<PostgresTarget>;

  constructor(name: string, args: RdsPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super('benchsight:infra:RdsPostgres', name, {}, opts);
    const major = args.engineVersion.split('.')[0]!;

    const parameters = new aws.rds.ParameterGroup(
      `${name}-params`,
      {
        namePrefix: `${args.namePrefix}-db-params-`,
        family: `postgres${major}`,
        description: `${args.namePrefix}: TLS only`,
        parameters: [{ name: 'rds.force_ssl', value: '1' }],
      },
      { parent: this },
    );
    const firewall = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        description: `${args.namePrefix}: PostgreSQL from the allowed networks`,
        vpcId: args.network?.vpcId,
        ingress: [{ protocol: 'tcp', fromPort: 5432, toPort: 5432, cidrBlocks: args.allowedCidrs, description: 'PostgreSQL (TLS)' }],
      },
      { parent: this },
    );
    // Without one, RDS and EC2 use the region's default VPC, which an account may not have.
    const subnets = args.network
      ? new aws.rds.SubnetGroup(
          `${name}-subnets`,
          { namePrefix: `${args.namePrefix}-db-`, description: `${args.namePrefix}: the database's subnets`, subnetIds: args.network.subnetIds },
          { parent: this },
        )
      : undefined;
    this.instance = new aws.rds.Instance(
      `${name}-instance`,
      {
        identifier: `${args.namePrefix}-db`,
        engine: 'postgres',
        engineVersion: args.engineVersion,
        instanceClass: args.instanceClass,
        allocatedStorage: args.allocatedStorageGb,
        storageType: 'gp3',
        storageEncrypted: true,
        dbName: RDS_DATABASE,
        username: RDS_ADMIN_USER,
        password: args.masterPassword,
        parameterGroupName: parameters.name,
        vpcSecurityGroupIds: [firewall.id],
        dbSubnetGroupName: subnets?.name,
        publiclyAccessible: true,
        backupRetentionPeriod: 7,
        autoMinorVersionUpgrade: true,
        applyImmediately: true,
        copyTagsToSnapshot: true,
        deletionProtection: args.deletionProtection,
        skipFinalSnapshot: !args.deletionProtection,
        finalSnapshotIdentifier: args.deletionProtection ? `${args.namePrefix}-db-final` : undefined,
      },
      { parent: this, ...args.keep },
    );
    this.admin = pulumi.all([this.instance.address, this.instance.port, args.masterPassword]).apply(([host, port, password]) => ({
      host,
      port,
      database: RDS_DATABASE,
      username: RDS_ADMIN_USER,
      password,
      sslmode: 'verify-full',
      search: '?sslmode=verify-full',
    }));
    this.registerOutputs({ address: this.instance.address });
  }
}
