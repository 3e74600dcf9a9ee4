/**
 * What AWS accepts, checked on the inputs the program gives its resources under mocks:
 * the preview lets a bad name or description through and the create call fails, halfway
 * through the first `pulumi up`. Each rule is AWS's documented limit for the field.
 */
import type { MockedResource } from './stack';
import { unwrap } from './walk';

/** IAM accepts these characters in a role's description (CreateRole, Description). */
const IAM_DESCRIPTION = /^[\t\n\r\u0020-\u007E\u00A1-\u00FF]*$/;
/** EC2 accepts these in a security group's and an ingress rule's description. */
const EC2_DESCRIPTION = /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]*$/;
/** Auto-naming (namePrefix, bucketPrefix) appends 26 characters. */
const GENERATED = 26;

/** AWS's syntax of an EventBridge schedule expression. */
export function scheduleProblem(expr: string): string | undefined {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expr);
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) return `${expr}: the value must be positive`;
    const unit = rate[2]!.replace(/s$/, '');
    if ((n === 1) !== (unit === rate[2])) return `${expr}: AWS wants rate(${n} ${n === 1 ? unit : `${unit}s`})`;
    return undefined;
  }
  const cron = /^cron\((.+)\)$/.exec(expr);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6) return `${expr}: a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not ${fields.length}`;
    if (fields[2] !== '?' && fields[4] !== '?') return `${expr}: day-of-month or day-of-week must be "?"`;
    return undefined;
  }
  return `${expr}: not rate(...) or cron(...)`;
}

function check(out: string[], where: string, what: string, value: unknown, rule: { max?: number; min?: number; pattern?: RegExp; startsWith?: string }) {
  if (typeof value !== 'string') {
    out.push(`${where}: ${what} is not set`);
    return;
  }
  if (rule.max !== undefined && value.length > rule.max) out.push(`${where}: ${what} "${value}" is ${value.length} characters, more than ${rule.max}`);
  if (rule.min !== undefined && value.length < rule.min) out.push(`${where}: ${what} "${value}" is shorter than ${rule.min}`);
  if (rule.pattern && !rule.pattern.test(value)) out.push(`${where}: ${what} "${value}" does not match ${rule.pattern}`);
  if (rule.startsWith && !value.startsWith(rule.startsWith)) out.push(`${where}: ${what} "${value}" does not start with the stack's prefix ${rule.startsWith}`);
}

/** Every name, description and schedule AWS would refuse, in the resources of one stack run. */
export function constraintViolations(resources: MockedResource[], prefix: string): string[] {
  const out: string[] = [];
  for (const r of resources) {
    const i = unwrap(r.inputs) as Record<string, any>;
    const where = `${r.type} ${r.name}`;
    switch (r.type) {
      case 'aws:iam/role:Role':
        check(out, where, 'name', i.name, { max: 64, pattern: /^[\w+=,.@-]+$/, startsWith: prefix });
        check(out, where, 'description', i.description ?? '', { max: 1000, pattern: IAM_DESCRIPTION });
        break;
      case 'aws:iam/rolePolicy:RolePolicy':
        if (i.name !== undefined) check(out, where, 'name', i.name, { max: 128, pattern: /^[\w+=,.@-]+$/ });
        break;
      case 'aws:lambda/function:Function':
        check(out, where, 'name', i.name, { max: 64, pattern: /^[A-Za-z0-9_-]+$/, startsWith: prefix });
        check(out, where, 'description', i.description ?? '', { max: 256 });
        break;
      case 'aws:s3/bucket:Bucket':
        check(out, where, 'bucketPrefix', i.bucket ?? i.bucketPrefix, { max: 63 - GENERATED, pattern: /^[a-z0-9][a-z0-9-]*$/, startsWith: prefix });
        break;
      case 'aws:cloudwatch/metricAlarm:MetricAlarm':
        check(out, where, 'name', i.name, { max: 255, startsWith: prefix });
        check(out, where, 'alarmDescription', i.alarmDescription ?? '', { max: 1024 });
        break;
      case 'aws:cloudwatch/eventRule:EventRule': {
        check(out, where, 'name', i.name, { max: 64, pattern: /^[.\-_A-Za-z0-9]+$/, startsWith: prefix });
        check(out, where, 'description', i.description ?? '', { max: 512 });
        const problem = scheduleProblem(String(i.scheduleExpression));
        if (problem) out.push(`${where}: scheduleExpression ${problem}`);
        break;
      }
      case 'aws:sqs/queue:Queue':
        check(out, where, 'namePrefix', i.name ?? i.namePrefix, { max: 80 - GENERATED, pattern: /^[A-Za-z0-9_-]+$/, startsWith: prefix });
        break;
      case 'aws:sns/topic:Topic':
        check(out, where, 'namePrefix', i.name ?? i.namePrefix, { max: 256 - GENERATED, pattern: /^[A-Za-z0-9_-]+$/, startsWith: prefix });
        break;
      case 'aws:secretsmanager/secret:Secret':
        check(out, where, 'namePrefix', i.name ?? i.namePrefix, { max: 512 - GENERATED, pattern: /^[A-Za-z0-9/_+=.@-]+$/, startsWith: prefix });
        check(out, where, 'description', i.description ?? '', { max: 2048 });
        break;
      case 'aws:cloudwatch/logGroup:LogGroup':
        check(out, where, 'name', i.name, { max: 512, pattern: /^[.\-_/#A-Za-z0-9]+$/ });
        break;
      case 'aws:rds/instance:Instance': {
        const identifier = { max: 63, pattern: /^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$/, startsWith: prefix };
        check(out, where, 'identifier', i.identifier, identifier);
        if (i.finalSnapshotIdentifier !== undefined) check(out, where, 'finalSnapshotIdentifier', i.finalSnapshotIdentifier, { ...identifier, max: 255 });
        break;
      }
      case 'aws:rds/parameterGroup:ParameterGroup':
      case 'aws:rds/subnetGroup:SubnetGroup':
        check(out, where, 'name', i.name ?? i.namePrefix, { max: 255 - GENERATED, pattern: /^[a-z](?!.*--)[a-z0-9-]*$/, startsWith: prefix });
        break;
      case 'aws:ec2/securityGroup:SecurityGroup':
        check(out, where, 'description', i.description ?? '', { max: 255, pattern: EC2_DESCRIPTION });
        for (const rule of i.ingress ?? []) check(out, where, 'ingress description', rule.description ?? '', { max: 255, pattern: EC2_DESCRIPTION });
        break;
    }
  }
  return out;
}
