/**
 * Where alarms go: one SNS topic, with an e-mail subscription when `alarmEmail` is set,
 * and the alarm every function component raises on its errors.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export class Alerts extends pulumi.ComponentResource {
  readonly topicArn: pulumi.Output<string>;

  constructor(name: string, args: { namePrefix: string; email?: string }, opts?: pulumi.ComponentResourceOptions) {
    super('benchsight:infra:Alerts', name, {}, opts);
    // Not encrypted with the AWS-managed key: CloudWatch alarms cannot publish to such a topic.
    const topic = new aws.sns.Topic(name, { namePrefix: `${args.namePrefix}-alarms-` }, { parent: this });
    if (args.email) {
      new aws.sns.TopicSubscription(`${name}-email`, { topic: topic.arn, protocol: 'email', endpoint: args.email }, { parent: this });
    }
    this.topicArn = topic.arn;
    this.registerOutputs({ topicArn: this.topicArn });
  }
}

/** An alarm when function `functionName` fails at least once in five minutes. */
export function functionErrorAlarm(
  name: string,
  args: { alarmName: string; functionName: pulumi.Input<string>; topicArn: pulumi.Input<string>; description: string },
  opts: pulumi.CustomResourceOptions,
): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(
    name,
    {
      name: args.alarmName,
      alarmDescription: args.description,
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: args.functionName },
      statistic: 'Sum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
      alarmActions: [args.topicArn],
      okActions: [args.topicArn],
    },
    opts,
  );
}
