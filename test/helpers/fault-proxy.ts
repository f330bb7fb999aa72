/**
 * A loopback HTTP proxy that breaks a share of the requests it forwards, for
 * fault tests against real peers (no toxiproxy or netem here): answers 5xx
 * in the S3 error format, resets the connection before or after the
 * upstream handled the request, or cuts a request or response body halfway.
 * Requests are forwarded byte for byte (headers included), so signed
 * requests stay valid. Faults are drawn from a seeded generator: a failing
 * run can be replayed.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What can go wrong with one request. */
export type FaultKind = '5xx' | 'reset' | 'cut-request' | 'cut-response';

export const FAULT_KINDS: readonly FaultKind[] = ['5xx', 'reset', 'cut-request', 'cut-response'];

/** A running proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`: point the client here. */
  readonly url: string;
  /** Requests seen, and faults injected by kind. */
  readonly stats: { requests: number } & Record<FaultKind, number>;
  /** Share of requests to break from now on (0 to 1). */
  setRate(rate: number): void;
  close(): Promise<void>;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Share of requests broken, default 0.1. */
  rate?: number;
  seed?: number;
  kinds?: readonly FaultKind[];
}

/** mulberry32: small, seedable, good enough to pick faults. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const S3_ERROR = (code: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the fault proxy</Message></Error>`;

/** Starts a proxy in front of `upstream` (`http://host:port`). */
export async function startFaultProxy(upstream: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const target = new URL(upstream);
  const random = generator(options.seed ?? 1);
  const kinds = options.kinds ?? FAULT_KINDS;
  let rate = options.rate ?? 0.1;
  const stats = { requests: 0, '5xx': 0, reset: 0, 'cut-request': 0, 'cut-response': 0 };
  const pick = (): FaultKind | undefined => {
    if (random() >= rate) return undefined;
    return kinds[Math.floor(random() * kinds.length)];
  };

  const server = createServer((req, res) => {
    stats.requests += 1;
    const fault = pick();
    if (fault !== undefined) stats[fault] += 1;
    if (fault === 'reset') return void req.socket.destroy();
    if (fault === '5xx') return answer5xx(req, res, random() < 0.5);
    forward(target, req, res, fault);
  });
  return { ...(await listenLoopback(server)), stats, setRate: (r) => { rate = r; } };
}

/**
 * Listens on a free loopback port; `close` also drops the connections still
 * open (clients keep them alive), so a test's proxy stops at once.
 */
export async function listenLoopback(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

function answer5xx(req: IncomingMessage, res: ServerResponse, busy: boolean): void {
  req.resume();
  req.on('end', () => {
    res.writeHead(busy ? 503 : 500, { 'content-type': 'application/xml' });
    res.end(S3_ERROR(busy ? 'SlowDown' : 'InternalError'));
  });
}

function forward(target: URL, req: IncomingMessage, res: ServerResponse, fault: FaultKind | undefined): void {
  const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
    if (fault === 'cut-response') return cutResponse(upRes, res, req.method === 'HEAD');
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  // The upstream is down or failed: the client sees its connection reset, as with a dead server.
  up.on('error', () => res.socket?.destroy());
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  if (fault === 'cut-request') return cutRequest(req, up);
  req.pipe(up);
}

/** Forwards half the request body, then drops both connections. */
function cutRequest(req: IncomingMessage, up: ReturnType<typeof request>): void {
  const length = Number(req.headers['content-length'] ?? 0);
  let sent = 0;
  const cut = (): void => {
    up.destroy();
    req.socket.destroy();
  };
  if (length === 0) return cut();
  req.on('data', (chunk: Buffer) => {
    const room = Math.floor(length / 2) - sent;
    if (room > 0) up.write(chunk.subarray(0, room));
    sent += chunk.length;
    if (sent >= length / 2) cut();
  });
}

/** Sends the status and half the body, then drops the connection (before the headers when there is no body). */
function cutResponse(upRes: IncomingMessage, res: ServerResponse, head: boolean): void {
  const length = head ? 0 : Number(upRes.headers['content-length'] ?? 0);
  if (length === 0) {
    upRes.resume();
    res.socket?.destroy();
    return;
  }
  res.writeHead(upRes.statusCode ?? 502, upRes.headers);
  let sent = 0;
  upRes.on('data', (chunk: Buffer) => {
    const room = Math.floor(length / 2) - sent;
    if (room > 0) res.write(chunk.subarray(0, room));
    sent += chunk.length;
    if (sent >= length / 2) {
      upRes.destroy();
      res.socket?.destroy();
    }
  });
  // Never leave a response open: the client would wait on its kept-alive connection.
  upRes.on('end', () => res.socket?.destroy());
}
