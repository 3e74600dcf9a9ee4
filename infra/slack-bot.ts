/**
 * The Slack bot: `/benchsight …` commands reach it through a Lambda Function URL. The
 * URL has no AWS auth (Slack cannot sign AWS requests): every request is checked
 * against Slack's signature with the signing secret instead. Slow work is handed to
 * the worker, so Slack's 3-second acknowledgement is met.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { SlackRoles } from './config';
import { botPolicy } from './policies';
import { secretsRevision, type StoredSecret } from './secrets';
import { RDS_CA_ENV, ServiceFunction } from './service-function';

export interface SlackBotArgs {
  namePrefix: string;
  databaseSecret: StoredSecret;
  signingSecret: StoredSecret;
  botTokenSecret: StoredSecret;
  teamId: string;
  roles: SlackRoles;
  notifyChannel: string;
  workerFunctionName: pulumi.Input<string>;
  workerFunctionArn: pulumi.Input<string>;
  reservedConcurrency?: number;
  logRetentionDays: number;
  /** The ETL task's family when the team's pipeline runs the ETL (infra/etl-task.ts): `etl queue` takes any game. */
  etlTask?: string;
}

export class SlackBot extends pulumi.ComponentResource {
  readonly fn: ServiceFunction;
  /** The Request URL of the Slack app's slash command and interactivity. */
  readonly requestUrl: pulumi.Output<string>;

  constructor(name: string, args: SlackBotArgs, opts?: pulumi.ComponentResourceOptions) {
    super('benchsight:infra:SlackBot', name, {}, opts);
    const secrets = [args.databaseSecret, args.signingSecret, args.botTokenSecret];
    this.fn = new ServiceFunction(
      name,
      {
        functionName: `${args.namePrefix}-bot`,
        bundle: 'bot',
        description: 'the Slack bot (/benchsight ...)',
        memoryMb: 1024,
        timeoutSeconds: 30,
        environment: {
          DATABASE_SECRET_ARN: args.databaseSecret.arn,
          SLACK_SIGNING_SECRET_ARN: args.signingSecret.arn,
          SLACK_BOT_TOKEN_SECRET_ARN: args.botTokenSecret.arn,
          SLACK_TEAM_ID: args.teamId,
          BENCHSIGHT_ROLES: JSON.stringify(args.roles),
          SLACK_NOTIFY_CHANNEL: args.notifyChannel,
          WORKER_FUNCTION_NAME: args.workerFunctionName,
          ...(args.etlTask ? { BENCHSIGHT_ETL_TASK: args.etlTask } : {}),
          SECRETS_REVISION: secretsRevision(...secrets.map((s) => s.versionId)),
          ...RDS_CA_ENV,
        },
        logRetentionDays: args.logRetentionDays,
        reservedConcurrency: args.reservedConcurrency,
        policy: (logGroupArn) =>
          pulumi
            .all([logGroupArn, args.workerFunctionArn, pulumi.all(secrets.map((s) => s.arn))])
            .apply(([lg, workerFunctionArn, secretArns]) => botPolicy({ logGroupArn: lg, workerFunctionArn, secretArns })),
      },
      { parent: this },
    );
    const fn = this.fn.function;

    const url = new aws.lambda.FunctionUrl(`${name}-url`, { functionName: fn.name, authorizationType: 'NONE', invokeMode: 'BUFFERED' }, { parent: this });
    // A public Function URL needs both statements in the function's resource policy.
    new aws.lambda.Permission(
      `${name}-url-invoke`,
      { action: 'lambda:InvokeFunctionUrl', function: fn.name, principal: '*', functionUrlAuthType: 'NONE' },
      { parent: this },
    );
    new aws.lambda.Permission(
      `${name}-url-invoke-function`,
      { action: 'lambda:InvokeFunction', function: fn.name, principal: '*', invokedViaFunctionUrl: true },
      { parent: this },
    );
    this.requestUrl = url.functionUrl;
    this.registerOutputs({ requestUrl: this.requestUrl });
  }
}
