/**
 * Lambda-backed custom resources, run the way CloudFormation runs them: the function behind the
 * `ServiceToken` receives a Create, Update or Delete request and answers by an HTTP PUT of its
 * response to the request's `ResponseURL`, served here by a small local HTTP server. What was last
 * applied (properties, physical id) is kept across restarts, as a stack keeps it, so that the next
 * start sends an Update (or a Delete for a resource removed from the template).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { CfnResource } from './assembly.js';
import type { InvokeResult } from './lambda/local-function.js';

export type CustomResourceRequestType = 'Create' | 'Update' | 'Delete';

/** The event CloudFormation sends to a custom resource's function. */
export interface CustomResourceRequest {
  readonly RequestType: CustomResourceRequestType;
  readonly ServiceToken: string;
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly ResourceType: string;
  readonly LogicalResourceId: string;
  /** Update and Delete only. */
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  /** Update only. */
  readonly OldResourceProperties?: Record<string, unknown>;
}

/** What the function PUTs to the `ResponseURL`. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho?: boolean;
  readonly Data?: Record<string, unknown>;
}

export type CustomResourceOutcome =
  | { readonly ok: true; readonly response: CustomResourceResponse }
  | { readonly ok: false; readonly reason: string; readonly response?: CustomResourceResponse };

/** A custom resource request that failed: FAILED, no response in time, or the function failed. */
export class CustomResourceError extends Error {
  override readonly name = 'CustomResourceError';

  constructor(
    readonly stackName: string,
    readonly logicalId: string,
    readonly resourceType: string,
    readonly requestType: CustomResourceRequestType,
    readonly reason: string,
  ) {
    super(`custom resource ${stackName}/${logicalId} (${resourceType}) failed to ${requestType}: ${reason}`);
  }
}

export function isCustomResourceType(type: string): boolean {
  return type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';
}

/**
 * Resource properties as CloudFormation hands them to a custom resource: numbers and booleans
 * become strings (at any depth), so that a handler tested locally sees what it will see in AWS.
 */
export function cloudFormationProperties(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(cloudFormationProperties);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloudFormationProperties(v)]));
  }
  return value;
}

/**
 * Logical ids of the singleton functions aws-cdk-lib ships as custom resource handlers
 * (`AwsCustomResource`, `LogRetention`).
 */
const CDK_SINGLETON_HANDLERS = [
  'AWS679f53fac002430cb0da5b7982bd2287',
  'LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a',
];

/**
 * Why a function is one of aws-cdk-lib's own custom resource handlers, which the local cloud does
 * not run (they call AWS APIs the emulator may lack and answer CloudFormation over HTTPS only);
 * undefined for any other function.
 */
export function cdkFrameworkHandler(logicalId: string, resource: CfnResource): string | undefined {
  const handler = String(resource.Properties?.Handler ?? '');
  const path = String(resource.Metadata?.['aws:cdk:path'] ?? '');
  // aws-cdk-lib's CustomResourceProvider: construct `<Type>CustomResourceProvider`, child `Handler`
  // (S3 and ECR auto-delete, the VPC's default security group, cross-region references...).
  if (
    handler === '__entrypoint__.handler' ||
    /CustomResourceProviderHandler[0-9A-F]{8}$/.test(logicalId) ||
    path.endsWith('CustomResourceProvider/Handler')
  ) {
    return 'a CDK CustomResourceProvider handler';
  }
  if (handler.startsWith('framework.')) return 'the CDK custom-resources Provider framework';
  if (CDK_SINGLETON_HANDLERS.some((id) => logicalId.startsWith(id))) return 'a CDK singleton handler';
  return undefined;
}

/** What was last applied to a custom resource: the state a stack keeps for it. */
export interface CustomResourceRecord {
  readonly stackName: string;
  readonly logicalId: string;
  readonly resourceType: string;
  readonly serviceToken: string;
  readonly physicalResourceId: string;
  /** The ResourceProperties of the last successful Create or Update (as sent). */
  readonly properties: Record<string, unknown>;
}

export const customResourceKey = (stackName: string, logicalId: string): string =>
  `${stackName}/${logicalId}`;

export interface CustomResourceStore {
  get(stackName: string, logicalId: string): CustomResourceRecord | undefined;
  set(record: CustomResourceRecord): void;
  delete(stackName: string, logicalId: string): void;
  /** Records of one stack, in the order they were first applied. */
  ofStack(stackName: string): CustomResourceRecord[];
}

/** Records kept for the life of one local cloud: every start creates its custom resources. */
export class MemoryCustomResourceStore implements CustomResourceStore {
  protected readonly records = new Map<string, CustomResourceRecord>();

  get(stackName: string, logicalId: string): CustomResourceRecord | undefined {
    return this.records.get(customResourceKey(stackName, logicalId));
  }

  set(record: CustomResourceRecord): void {
    this.records.set(customResourceKey(record.stackName, record.logicalId), record);
  }

  delete(stackName: string, logicalId: string): void {
    this.records.delete(customResourceKey(stackName, logicalId));
  }

  ofStack(stackName: string): CustomResourceRecord[] {
    return [...this.records.values()].filter((r) => r.stackName === stackName);
  }
}

type RecordFile = Record<string, CustomResourceRecord>;

function readRecords(file: string): RecordFile {
  try {
    if (!existsSync(file)) return {};
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    const out: RecordFile = {};
    for (const [key, r] of Object.entries(parsed as Record<string, Partial<CustomResourceRecord>>)) {
      if (
        typeof r?.stackName === 'string' &&
        typeof r.logicalId === 'string' &&
        typeof r.physicalResourceId === 'string' &&
        r.properties !== null &&
        typeof r.properties === 'object'
      ) {
        out[key] = {
          stackName: r.stackName,
          logicalId: r.logicalId,
          resourceType: String(r.resourceType ?? 'AWS::CloudFormation::CustomResource'),
          serviceToken: String(r.serviceToken ?? ''),
          physicalResourceId: r.physicalResourceId,
          properties: r.properties,
        };
      }
    }
    return out;
  } catch {
    return {}; // an unreadable file only costs a Create instead of an Update
  }
}

/**
 * Records in a JSON file, written at every change. Each write merges with what is on disk, so that
 * two local clouds (`npm start` beside the tests) sharing the file keep each other's records.
 */
export class FileCustomResourceStore extends MemoryCustomResourceStore {
  constructor(private readonly file: string) {
    super();
    for (const [key, record] of Object.entries(readRecords(file))) this.records.set(key, record);
  }

  override set(record: CustomResourceRecord): void {
    super.set(record);
    this.write((onDisk) => {
      onDisk[customResourceKey(record.stackName, record.logicalId)] = record;
    });
  }

  override delete(stackName: string, logicalId: string): void {
    super.delete(stackName, logicalId);
    this.write((onDisk) => {
      delete onDisk[customResourceKey(stackName, logicalId)];
    });
  }

  private write(change: (onDisk: RecordFile) => void): void {
    const onDisk = readRecords(this.file);
    change(onDisk);
    mkdirSync(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    writeFileSync(temp, `${JSON.stringify(onDisk, null, 2)}\n`);
    renameSync(temp, this.file);
  }
}

/** Lambda answers CloudFormation with at most this much (the response object's limit). */
const MAX_RESPONSE_BYTES = 4096;
/** Bodies beyond this are not read at all. */
const MAX_BODY_BYTES = 1024 * 1024;

type Delivery = { readonly body: string } | { readonly error: string };

/**
 * The `ResponseURL`s of the requests in flight: a local HTTP server on 127.0.0.1 (random port,
 * started on first use) with one unique path per request, as CloudFormation's pre-signed S3 URLs.
 */
export class ResponseEndpoint {
  private server?: Promise<{ server: Server; port: number }>;
  private readonly pending = new Map<string, (delivery: Delivery) => void>();

  /** A URL for one request and the body PUT to it. `cancel` stops waiting. */
  async expect(requestId: string): Promise<{ url: string; body: Promise<Delivery>; cancel(): void }> {
    const { port } = await this.listen();
    const path = `/cloudformation-response/${randomUUID()}/${encodeURIComponent(requestId)}`;
    const body = new Promise<Delivery>((resolve) => this.pending.set(path, resolve));
    return { url: `http://127.0.0.1:${port}${path}`, body, cancel: () => this.pending.delete(path) };
  }

  async close(): Promise<void> {
    const started = this.server;
    this.server = undefined;
    if (!started) return;
    const { server } = await started;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private listen(): Promise<{ server: Server; port: number }> {
    this.server ??= new Promise((resolve, reject) => {
      const server = createServer((req, res) => this.receive(req, res));
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.unref();
        resolve({ server, port: (server.address() as AddressInfo).port });
      });
    });
    return this.server;
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const deliver = this.pending.get(path);
    if (req.method !== 'PUT' || !deliver) {
      req.resume();
      res.writeHead(req.method !== 'PUT' ? 405 : 404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      this.pending.delete(path);
      deliver(
        size > MAX_BODY_BYTES
          ? { error: `the response body is ${size} bytes` }
          : { body: Buffer.concat(chunks).toString('utf8') },
      );
      res.writeHead(200).end();
    });
    req.on('error', () => res.destroy());
  }
}

/** Checks a response body against what CloudFormation accepts. */
export function parseResponse(
  body: string,
  request: Pick<CustomResourceRequest, 'RequestType'>,
): CustomResourceOutcome {
  if (Buffer.byteLength(body) > MAX_RESPONSE_BYTES) {
    return { ok: false, reason: `Response object is too long (${Buffer.byteLength(body)} bytes, max 4096)` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, reason: `the response is not JSON: ${body.slice(0, 200)}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, reason: `the response is not a JSON object: ${body.slice(0, 200)}` };
  }
  const response = parsed as CustomResourceResponse;
  if (response.Status === 'FAILED') {
    return { ok: false, reason: response.Reason || 'FAILED without a Reason', response };
  }
  if (response.Status !== 'SUCCESS') {
    return { ok: false, reason: `invalid Status ${JSON.stringify(response.Status)} in the response` };
  }
  if (request.RequestType !== 'Delete') {
    if (typeof response.PhysicalResourceId !== 'string' || response.PhysicalResourceId === '') {
      return { ok: false, reason: 'the response has no PhysicalResourceId', response };
    }
  }
  if (
    response.Data !== undefined &&
    (response.Data === null || typeof response.Data !== 'object' || Array.isArray(response.Data))
  ) {
    return { ok: false, reason: 'the response Data is not an object', response };
  }
  return { ok: true, response };
}

/** After a failed invocation, a response PUT just before it may still be on its way. */
const AFTER_FAILURE_GRACE_MS = 250;

export interface SendOptions {
  /** Invokes the function (a LocalFunction's `invoke`). */
  readonly invoke: (event: CustomResourceRequest) => Promise<InvokeResult>;
  readonly endpoint: ResponseEndpoint;
  /** How long to wait for the response from the invocation's start. */
  readonly timeoutMs: number;
}

/**
 * Sends one request to a custom resource's function and waits for its response at the
 * `ResponseURL` (not for the function to return): the response, or why there is none.
 */
export async function sendCustomResourceRequest(
  request: Omit<CustomResourceRequest, 'ResponseURL' | 'RequestId'>,
  options: SendOptions,
): Promise<CustomResourceOutcome> {
  const requestId = randomUUID();
  const expected = await options.endpoint.expect(requestId);
  const event: CustomResourceRequest = { ...request, ResponseURL: expected.url, RequestId: requestId };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CustomResourceOutcome>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          ok: false,
          reason: `no response at the ResponseURL within ${options.timeoutMs / 1000} s`,
        }),
      options.timeoutMs,
    );
  });
  const responded = expected.body.then(
    (delivery): CustomResourceOutcome =>
      'error' in delivery ? { ok: false, reason: delivery.error } : parseResponse(delivery.body, event),
  );
  const invocation = options.invoke(event).then(
    async (result): Promise<CustomResourceOutcome> => {
      if (result.ok) return new Promise<never>(() => {}); // a response may still come
      await new Promise((resolve) => setTimeout(resolve, AFTER_FAILURE_GRACE_MS));
      return {
        ok: false,
        reason: `the function failed without responding: ${result.errorType}: ${result.errorMessage}`,
      };
    },
    (error: unknown): CustomResourceOutcome => ({
      ok: false,
      reason: `the function could not be invoked: ${error instanceof Error ? error.message : String(error)}`,
    }),
  );
  try {
    return await Promise.race([responded, invocation, timeout]);
  } finally {
    clearTimeout(timer);
    expected.cancel();
  }
}
