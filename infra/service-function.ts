/**
 * One Lambda function as every function of the stack is built: its bundle from
 * `dist/<name>`, its own role with one inline policy (given by the caller, scoped to the
 * function's own log group), and its own log group with a retention.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { bundleDir, type LambdaName } from './bundles';
import { lambdaAssumeRolePolicy, type PolicyDocument } from './policies';

/** The bundles target Node 20 syntax (esbuild), which this runtime runs. */
export const LAMBDA_RUNTIME = aws.lambda.Runtime.NodeJS22dX;

/** Node 20+ Lambda runtimes trust Amazon's RDS CAs only when asked to. */
export const RDS_CA_ENV = { NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' };

/**
 * Node's options for the functions that run the load engine (the loader, the worker): a
 * young generation of 2 MB semi-spaces instead of 16. A load streams its file through
 * short-lived buffers and strings, and V8 lets the young generation grow to its limit
 * before it collects: with the default, ~20 MB more RSS for the same load (measured on the
 * real export ×20 from the CLI: 110 MB → 90 MB; a 381 MB file through the loader: see
 * bench/README.md), at a few more scavenges.
 */
export const ENGINE_NODE_OPTIONS = '--max-semi-space-size=2';

/** The code the stack uploads for bundle `name`. */
export function lambdaCode(name: LambdaName): pulumi.asset.FileArchive {
  return new pulumi.asset.FileArchive(bundleDir(name));
}

export interface ServiceFunctionArgs {
  /** The function's name (also its log group's: /aws/lambda/<name>). */
  functionName: string;
  bundle: LambdaName;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  ephemeralStorageMb?: number;
  /** Non-secret settings and secret ARNs only: values of secrets never go here. */
  environment: Record<string, pulumi.Input<string>>;
  logRetentionDays: number;
  /** The role's policy, given the function's log group ARN. */
  policy: (logGroupArn: pulumi.Output<string>) => pulumi.Output<PolicyDocument>;
  deadLetterQueueArn?: pulumi.Input<string>;
  /** How many copies may run at once (undefined or -1: unreserved, the account's pool). */
  reservedConcurrency?: number;
  /** Node options beside --enable-source-maps (ENGINE_NODE_OPTIONS for the engine's functions). */
  nodeOptions?: string;
}

export class ServiceFunction extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;
  readonly role: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: ServiceFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super('benchsight:infra:ServiceFunction', name, {}, opts);

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/lambda/${args.functionName}`, retentionInDays: args.logRetentionDays },
      { parent: this },
    );
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        // Named like its function: the stacks of one account (dev, prod) are told apart.
        name: `${args.functionName}-role`,
        assumeRolePolicy: JSON.stringify(lambdaAssumeRolePolicy()),
        description: `${args.functionName}: ${args.description}`,
      },
      { parent: this },
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      { role: this.role.id, policy: args.policy(this.logGroup.arn).apply((d) => JSON.stringify(d)) },
      { parent: this },
    );
    this.function = new aws.lambda.Function(
      `${name}-function`,
      {
        name: args.functionName,
        description: args.description,
        role: this.role.arn,
        runtime: LAMBDA_RUNTIME,
        architectures: ['arm64'],
        handler: 'index.handler',
        code: lambdaCode(args.bundle),
        memorySize: args.memoryMb,
        timeout: args.timeoutSeconds,
        ephemeralStorage: args.ephemeralStorageMb ? { size: args.ephemeralStorageMb } : undefined,
        environment: { variables: { NODE_OPTIONS: ['--enable-source-maps', args.nodeOptions].filter(Boolean).join(' '), ...args.environment } },
        deadLetterConfig: args.deadLetterQueueArn ? { targetArn: args.deadLetterQueueArn } : undefined,
        reservedConcurrentExecutions: args.reservedConcurrency ?? -1,
        loggingConfig: { logFormat: 'Text', logGroup: this.logGroup.name },
      },
      // The policy first: a function that starts before it can read its secrets fails.
      { parent: this, dependsOn: [policy, this.logGroup] },
    );
    this.registerOutputs({ functionName: this.function.name, functionArn: this.function.arn });
  }
}
