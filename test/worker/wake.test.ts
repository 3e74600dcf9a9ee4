/** The worker is woken by an asynchronous invoke of its Lambda (loader/worker/wake.ts). */
import type { InvokeCommand } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { wakeWorker } from '../../loader/worker/wake';

describe('the worker Lambda', () => {
  it('is woken by an asynchronous invoke', async () => {
    const sent: InvokeCommand[] = [];
    await wakeWorker(
      {
        send: async (c: unknown) => {
          sent.push(c as InvokeCommand);
          return {};
        },
      } as never,
      'benchsight-dev-worker',
      { reason: 'slack', jobId: 7 },
    );
    expect(sent[0]!.input).toMatchObject({ FunctionName: 'benchsight-dev-worker', InvocationType: 'Event' });
    expect(JSON.parse(Buffer.from(sent[0]!.input.Payload as Uint8Array).toString())).toEqual({ reason: 'slack', jobId: 7 });
  });
});
