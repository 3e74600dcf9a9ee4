/**
 * Secrets Manager secrets the functions read at run time (loader/aws/secrets.ts). The
 * functions' environment holds only their ARNs; the values stay secret Outputs here and
 * in the state.
 */
import { createHash } from 'node:crypto';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Keep } from './config';

/** One secret and its current value. */
export class StoredSecret extends pulumi.ComponentResource {
  readonly arn: pulumi.Output<string>;
  /** Changes with the value: used to restart functions that cached the old one. */
  readonly versionId: pulumi.Output<string>;

  constructor(
    name: string,
    args: { namePrefix: string; description: string; value: pulumi.Input<string>; keep: Keep },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super('benchsight:infra:StoredSecret', name, {}, opts);
    const secret = new aws.secretsmanager.Secret(
      name,
      // A generated suffix: a deleted secret's name stays reserved for days.
      { namePrefix: `${args.namePrefix}/${name}-`, description: args.description },
      { parent: this, ...args.keep },
    );
    const version = new aws.secretsmanager.SecretVersion(`${name}-value`, { secretId: secret.id, secretString: pulumi.secret(args.value) }, { parent: this });
    this.arn = secret.arn;
    this.versionId = version.versionId;
    this.registerOutputs({ arn: this.arn });
  }
}

export interface SecretsArgs {
  namePrefix: string;
  /** The loader role's connection string (loader, worker and bot). */
  databaseUrl: pulumi.Input<string>;
  slackSigningSecret: pulumi.Input<string>;
  slackBotToken: pulumi.Input<string>;
  keep: Keep;
}

/** The functions' secrets: the loader role's database URL, Slack's signing secret and bot token. */
export class Secrets extends pulumi.ComponentResource {
  readonly databaseUrl: StoredSecret;
  readonly slackSigningSecret: StoredSecret;
  readonly slackBotToken: StoredSecret;

  constructor(name: string, args: SecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('benchsight:infra:Secrets', name, {}, opts);
    const p = args.namePrefix;
    this.databaseUrl = new StoredSecret(
      'database-url-loader',
      { namePrefix: p, description: 'PostgreSQL connection string of the loader role', value: args.databaseUrl, keep: args.keep },
      { parent: this },
    );
    this.slackSigningSecret = new StoredSecret(
      'slack-signing-secret',
      { namePrefix: p, description: "The Slack app's signing secret", value: args.slackSigningSecret, keep: args.keep },
      { parent: this },
    );
    this.slackBotToken = new StoredSecret(
      'slack-bot-token',
      { namePrefix: p, description: "The Slack app's bot token (xoxb-...)", value: args.slackBotToken, keep: args.keep },
      { parent: this },
    );
    this.registerOutputs({});
  }
}

/** A short digest of secret versions: a function's environment carries it so that a new value restarts it. */
export function secretsRevision(...versionIds: pulumi.Input<string>[]): pulumi.Output<string> {
  // A digest of the versions' ids, which are not secret; never of the values.
  return pulumi.all(versionIds).apply((ids) => createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 16));
}
