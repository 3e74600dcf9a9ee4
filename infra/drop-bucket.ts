/**
 * The private S3 "drop" bucket: files dropped at its root are loaded; the loader
 * writes outcomes under processed/, failed/ and refused/, which expire. No public access, no
 * ACLs, encrypted at rest, versioned, and TLS only.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Keep } from './config';
import { denyInsecureTransportPolicy } from './policies';

export interface DropBucketArgs {
  namePrefix: string;
  processedRetentionDays: number;
  failedRetentionDays: number;
  /** Lets `pulumi destroy` delete a bucket that still holds files (dev stacks). */
  forceDestroy: boolean;
  /** protect / retainOnDelete of the bucket (the stack's setting). */
  keep: Keep;
}

/** How long replaced or deleted versions of a file are kept. */
export const NONCURRENT_VERSION_DAYS = 30;

export class DropBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: DropBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super('benchsight:infra:DropBucket', name, {}, opts);
    const parent = { parent: this };
    const bucket = (this.bucket = new aws.s3.Bucket(
      name,
      { bucketPrefix: `${args.namePrefix}-drop-`, forceDestroy: args.forceDestroy },
      { ...parent, ...args.keep },
    ));
    this.name = bucket.bucket;
    this.arn = bucket.arn;

    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, parent);
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] },
      parent,
    );
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } }, parent);
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          { id: 'expire-processed', status: 'Enabled', filter: { prefix: 'processed/' }, expiration: { days: args.processedRetentionDays } },
          { id: 'expire-failed', status: 'Enabled', filter: { prefix: 'failed/' }, expiration: { days: args.failedRetentionDays } },
          // A drop a drift policy refused: its copy and plan (the dropped object itself stays, loadable).
          { id: 'expire-refused', status: 'Enabled', filter: { prefix: 'refused/' }, expiration: { days: args.failedRetentionDays } },
          {
            id: 'expire-old-versions',
            status: 'Enabled',
            filter: { prefix: '' },
            noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_VERSION_DAYS },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      { parent: this, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(denyInsecureTransportPolicy(arn))) },
      // S3 refuses a policy while the public access block is being set.
      { parent: this, dependsOn: [publicAccess] },
    );
    this.registerOutputs({ name: this.name, arn: this.arn });
  }
}
