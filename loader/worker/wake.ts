/**
 * Wakes the worker Lambda after queueing work: an asynchronous invoke (InvocationType
 * Event), so the caller (the bot acknowledging Slack within 3 s, the S3 loader) does not
 * wait for the work. Losing a wake-up only delays the job until the schedule's next run.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

export interface WakeEvent {
  reason: string;
  /** Run this job first. */
  jobId?: number;
}

export async function wakeWorker(client: Pick<LambdaClient, 'send'>, functionName: string, event: WakeEvent): Promise<void> {
  await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }));
}
