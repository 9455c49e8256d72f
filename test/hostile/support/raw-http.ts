/**
 * HTTP/1.1 over a plain socket: the request line, headers and body go out byte for byte as the
 * case wrote them. `fetch` (and `http.request`) would normalise the target (percent-encoding,
 * dot segments), merge or refuse duplicate and odd headers, and so hide what a hostile client
 * can send.
 */
import { connect } from 'node:net';

export interface RawRequest {
  readonly method: string;
  /** The request target exactly as sent: path and query, already percent-encoded (or not). */
  readonly target: string;
  /** In order, duplicates allowed; names and values are written as latin1 bytes. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Buffer;
}

export type RawOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: Buffer;
      readonly ms: number;
    }
  | { readonly kind: 'timeout'; readonly ms: number }
  | { readonly kind: 'error'; readonly message: string; readonly ms: number };

export function sendRaw(
  host: string,
  port: number,
  request: RawRequest,
  timeoutMs: number,
): Promise<RawOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const finish = () => {
      const parsed = parseResponse(Buffer.concat(chunks));
      if (parsed) done({ kind: 'response', ...parsed, ms: elapsed() });
      else done({ kind: 'error', message: 'connection closed without a complete response', ms: elapsed() });
    };
    const socket = connect({ host, port });
    const timer = setTimeout(() => done({ kind: 'timeout', ms: elapsed() }), timeoutMs);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // Answered before the body was all sent (413): the response is complete once parsable.
      const parsed = parseResponse(Buffer.concat(chunks), false);
      if (parsed) done({ kind: 'response', ...parsed, ms: elapsed() });
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (error) => {
      if (chunks.length > 0) finish();
      else done({ kind: 'error', message: error.message, ms: elapsed() });
    });
    socket.on('connect', () => {
      const head = [`${request.method} ${request.target} HTTP/1.1`];
      for (const [name, value] of request.headers) head.push(`${name}: ${value}`);
      head.push('', '');
      socket.write(Buffer.from(head.join('\r\n'), 'latin1'));
      if (request.body && request.body.length > 0) socket.write(request.body);
    });
  });
}

/** The response in `data`, or undefined while it is incomplete (`atEnd`: the peer closed). */
function parseResponse(
  data: Buffer,
  atEnd = true,
): { status: number; headers: Record<string, string>; body: Buffer } | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const lines = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
  }
  const rest = data.subarray(headEnd + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const body = dechunk(rest);
    return body ? { status, headers, body } : undefined;
  }
  const length = headers['content-length'];
  if (length !== undefined) {
    const n = Number(length);
    return rest.length >= n ? { status, headers, body: rest.subarray(0, n) } : undefined;
  }
  return atEnd ? { status, headers, body: rest } : undefined;
}

function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isInteger(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (data.length < start + size) return undefined;
    parts.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
}
