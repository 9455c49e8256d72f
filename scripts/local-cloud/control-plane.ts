/**
 * The AWS control-plane calls of the services the local cloud maps to local engines, which the
 * AWS emulator does not answer for them. Functions reach it through `AWS_ENDPOINT_URL_<SERVICE>`
 * (the SDK's per-service endpoint), everything else still goes to the emulator.
 *
 * - Amazon MSK `GetBootstrapBrokers` (`GET /v1/clusters/{arn}/bootstrap-brokers`): the local
 *   Kafka's brokers, for every bootstrap string, for a cluster the assembly declares.
 * - CloudWatch (`/cloudwatch`): every call is passed on to the emulator; DescribeAlarms answers
 *   (JSON protocol) show the composite alarms kept there as stand-in metric alarms as composites,
 *   with their rules, and apply AlarmTypes, ChildrenOfAlarmName and ParentsOfAlarmName, which the
 *   emulator ignores (see alarms/composite.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  type DescribeAlarmsRequest,
  type DescribeAlarmsResponse,
  presentDescribeAlarms,
} from './alarms/composite.js';
import { alarmsOf, parseAlarmRule } from './alarms/rule.js';
import type { Registry } from './registry.js';

/** Hop-by-hop and recomputed headers, not passed through the CloudWatch proxy. */
const DROPPED_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
]);

const rulesAlarms = (rule: string): string[] => {
  try {
    return alarmsOf(parseAlarmRule(rule));
  } catch {
    return [];
  }
};

export class LocalControlPlane {
  private server?: Server;
  url = '';

  constructor(
    private readonly registry: () => Registry | undefined,
    /** The AWS emulator, to which CloudWatch calls are passed on; none serves no CloudWatch. */
    private readonly awsEndpoint?: string,
  ) {}

  /** Per-service endpoint variables for functions. */
  get environment(): Record<string, string> {
    if (!this.url) return {};
    return {
      AWS_ENDPOINT_URL_KAFKA: `${this.url}/kafka`,
      ...(this.awsEndpoint ? { AWS_ENDPOINT_URL_CLOUDWATCH: `${this.url}/cloudwatch` } : {}),
    };
  }

  /** Composite alarms kept as stand-ins on the emulator, by name: their rules. */
  private compositeRules(): Map<string, string> {
    const rules = new Map<string, string>();
    for (const c of this.registry()?.ofType('AWS::CloudWatch::CompositeAlarm') ?? []) {
      if (c.attrs.LocalCompositeStandIn === true && typeof c.attrs.AlarmRule === 'string')
        rules.set(c.ref, c.attrs.AlarmRule);
    }
    return rules;
  }

  private async proxyCloudWatch(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined && !DROPPED_HEADERS.has(key))
        headers[key] = Array.isArray(value) ? value.join(', ') : value;
    }
    const upstream = await fetch(new URL(path || '/', this.awsEndpoint), {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
    });
    let out: Buffer = Buffer.from(await upstream.arrayBuffer());
    const operation = String(req.headers['x-amz-target'] ?? '');
    // The JSON protocol (the SDK's): moto answers it with a JSON body, typed `text`.
    const json = String(req.headers['content-type'] ?? '').includes('json');
    if (upstream.ok && json && operation.endsWith('.DescribeAlarms')) {
      const request = (body.length > 0 ? JSON.parse(body.toString('utf8')) : {}) as DescribeAlarmsRequest;
      const response = JSON.parse(out.toString('utf8')) as DescribeAlarmsResponse;
      out = Buffer.from(
        JSON.stringify(presentDescribeAlarms(response, request, this.compositeRules(), rulesAlarms)),
      );
    }
    const responseHeaders: Record<string, string> = {};
    upstream.headers.forEach((value, key) => {
      if (!DROPPED_HEADERS.has(key)) responseHeaders[key] = value;
    });
    res.writeHead(upstream.status, { ...responseHeaders, 'content-length': String(out.length) });
    res.end(out);
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
      const path = req.url ?? '';
      if (
        this.awsEndpoint &&
        (path === '/cloudwatch' || path.startsWith('/cloudwatch/') || path.startsWith('/cloudwatch?'))
      ) {
        this.proxyCloudWatch(req, res, path.slice('/cloudwatch'.length)).catch((e: Error) => {
          if (!res.headersSent)
            send(502, { message: `CloudWatch via the local cloud: ${e.message}` }, 'ServiceUnavailable');
          else res.destroy(e);
        });
        return;
      }
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
