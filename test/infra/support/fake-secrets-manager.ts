/**
 * A Secrets Manager endpoint on 127.0.0.1 that answers GetSecretValue (AWS JSON 1.1
 * protocol) from a map, and counts the calls: enough for the AWS SDK v3 client.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSecretsManager {
  endpoint: string;
  calls: string[];
  secrets: Map<string, string | null>;
  close(): Promise<void>;
}

export async function startFakeSecretsManager(secrets: Record<string, string | null>): Promise<FakeSecretsManager> {
  const map = new Map(Object.entries(secrets));
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      if (target !== 'secretsmanager.GetSecretValue') return reply(400, { __type: 'UnknownOperationException', message: target });
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      calls.push(SecretId);
      if (!map.has(SecretId)) {
        return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      }
      const value = map.get(SecretId);
      return reply(200, {
        ARN: SecretId,
        Name: SecretId,
        VersionId: 'v1',
        ...(value === null ? { SecretBinary: Buffer.from('binary').toString('base64') } : { SecretString: value }),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    secrets: map,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
