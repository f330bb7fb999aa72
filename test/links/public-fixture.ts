/**
 * A loopback HTTP server playing the "public" host of public-link tests, and
 * a table resolver so DNS names never reach real DNS.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Resolver } from '../../src/links/ssrf-guard.ts';

/** One request the server saw. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/** The running fixture server. */
export interface LinkServer {
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** The object served at /a.bin (and most other paths): 1000 known bytes. */
export const OBJECT = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7 + 3) % 256));
const LAST_MODIFIED = 'Wed, 01 Jan 2025 00:00:00 GMT';

type Route = (res: ServerResponse, range: string | undefined, method: string) => void;

const status = (code: number, headers: Record<string, string> = {}): Route => (res) => res.writeHead(code, headers).end();

const ROUTES: Record<string, Route> = {
  '/a.bin': (res, range) => sendRanged(res, OBJECT, range, { etag: '"v1"', 'content-type': 'application/octet-stream' }),
  '/a.bin?v=2': (res, range) => sendRanged(res, OBJECT.subarray(0, 10), range, { etag: '"v2"' }),
  '/empty': (res, range) => sendRanged(res, Buffer.alloc(0), range, {}),
  '/ignores-ranges': (res) => res.writeHead(200, { 'content-length': OBJECT.length, 'last-modified': LAST_MODIFIED }).end(OBJECT),
  '/no-head': (res, range, method) => (method === 'HEAD' ? status(405)(res, range, method) : sendRanged(res, OBJECT, range, { etag: '"nh"' })),
  '/gzip': (res) => res.writeHead(200, { 'content-length': 3, 'content-encoding': 'gzip' }).end('abc'),
  '/missing': status(404),
  '/gone': status(410),
  '/forbidden': status(403),
  '/unauthorized': status(401),
  '/throttled': status(429),
  '/busy': status(503),
  '/broken': status(500),
  '/teapot': status(418),
  '/r1': status(302, { location: '/r2' }),
  '/r2': status(301, { location: 'a.bin' }),
  '/loop': status(307, { location: '/loop' }),
  '/to-ftp': status(302, { location: 'ftp://images.example.test/a.bin' }),
  // Serves whole 100-byte blocks, starting before the asked start as some CDNs do.
  '/aligned': (res, range) => {
    const start = Math.floor(Number(/^bytes=(\d+)-/.exec(range ?? '')?.[1] ?? 0) / 100) * 100;
    const end = Math.min(start + 199, OBJECT.length - 1);
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${OBJECT.length}`, 'content-length': end - start + 1 });
    res.end(OBJECT.subarray(start, end + 1));
  },
  '/unknown-size': (res) => res.writeHead(206, { 'content-range': 'bytes 0-9/*', 'content-length': 10 }).end(OBJECT.subarray(0, 10)),
  '/hang': () => undefined,
  // Headers and 10 of 1000 bytes, then silence.
  '/stall': (res) => { res.writeHead(200, { 'content-length': OBJECT.length }).write(OBJECT.subarray(0, 10)); },
};

/** Starts the fixture server on 127.0.0.1; `/redirect?to=<url>` redirects anywhere. */
export async function startLinkServer(): Promise<LinkServer> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push({ method: req.method ?? '', path, headers: req.headers });
    const to = new URL(path, 'http://x').searchParams.get('to');
    if (path.startsWith('/redirect?') && to !== null) return status(302, { location: to })(res, undefined, '');
    const route = ROUTES[path] ?? status(404);
    route(res, req.headers.range, req.method ?? 'GET');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port, seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A resolver answering from a table (a function per name may change answers between calls). */
export function tableResolver(table: Record<string, string[] | (() => string[])>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (host: string) => {
    calls.push(host);
    const entry = table[host];
    if (entry === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    const addresses = typeof entry === 'function' ? entry() : entry;
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { calls });
}

/** Reads a stream to a buffer. */
export async function collect(body: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function sendRanged(res: ServerResponse, bytes: Buffer, range: string | undefined, headers: Record<string, string>): void {
  const base = { ...headers, 'last-modified': LAST_MODIFIED, 'accept-ranges': 'bytes' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(range ?? '');
  if (m === null) {
    res.writeHead(200, { ...base, 'content-length': bytes.length }).end(bytes);
    return;
  }
  const start = m[1] === '' ? Math.max(0, bytes.length - Number(m[2])) : Number(m[1]);
  const end = m[1] === '' || m[2] === '' ? bytes.length - 1 : Math.min(Number(m[2]), bytes.length - 1);
  if (start >= bytes.length) {
    res.writeHead(416, { ...base, 'content-range': `bytes */${bytes.length}` }).end();
    return;
  }
  res.writeHead(206, { ...base, 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': end - start + 1 });
  res.end(bytes.subarray(start, end + 1));
}
