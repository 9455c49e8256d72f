/**
 * The AWS control-plane calls of the services the local cloud maps to local engines, which the
 * AWS emulator does not answer for them. Functions reach it through `AWS_ENDPOINT_URL_<SERVICE>`
 * (the SDK's per-service endpoint), everything else still goes to the emulator.
 *
 * - Amazon MSK `GetBootstrapBrokers` (`GET /v1/clusters/{arn}/bootstrap-brokers`): the local
 *   Kafka's brokers, for every bootstrap string, for a cluster the assembly declares.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from './registry.js';

export class LocalControlPlane {
  private server?: Server;
  url = '';

  constructor(private readonly registry: () => Registry | undefined) {}

  /** Per-service endpoint variables for functions. */
  get environment(): Record<string, string> {
    return this.url ? { AWS_ENDPOINT_URL_KAFKA: `${this.url}/kafka` } : {};
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      const send = (status: number, body: unknown, type?: string) => {
        res.writeHead(status, {
          'content-type': 'application/json',
          ...(type ? { 'x-amzn-errortype': type } : {}),
        });
        res.end(JSON.stringify(body));
      };
      const match = /^\/kafka\/v1\/clusters\/([^/]+)\/bootstrap-brokers$/.exec(
        (req.url ?? '').split('?')[0] ?? '',
      );
      if (req.method !== 'GET' || !match?.[1]) {
        send(
          404,
          { message: `the local control plane does not serve ${req.method} ${req.url}` },
          'NotFoundException',
        );
        return;
      }
      const arn = decodeURIComponent(match[1]);
      const cluster = this.registry()?.findByArnOrRef(arn);
      const brokers = cluster?.attrs.LocalBootstrapBrokers;
      if (typeof brokers !== 'string') {
        send(404, { message: `no cluster ${arn} in the local cloud` }, 'NotFoundException');
        return;
      }
      send(200, {
        bootstrapBrokerString: brokers,
        bootstrapBrokerStringTls: brokers,
        bootstrapBrokerStringSaslIam: brokers,
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('control plane: no port');
    this.server = server;
    this.url = `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
