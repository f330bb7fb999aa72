/**
 * Hands a stored video to ffmpeg without copying it: a one-object HTTP server
 * on loopback, at an unguessable path, answering Range requests from the
 * store. ffmpeg seeks through it (to a `moov` at the end of an MP4, to the
 * keyframe before the wanted time), so a thumbnail of a 2 GB video on S3
 * reads a few megabytes, not 2 GB.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { parseRange, type ResolvedRange } from '../http/range.ts';
import type { ObjectAt } from './preview-source.ts';

/**
 * Serves `at` (of `size` bytes) on 127.0.0.1 while `use` runs; `use` gets its
 * URL. The server is closed, connections included, when `use` settles.
 */
export async function withLoopbackUrl<T>(at: ObjectAt, size: number, use: (url: string) => Promise<T>): Promise<T> {
  const token = randomBytes(16).toString('hex');
  const server = createServer((req, res) => {
    serve(at, size, token, req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  try {
    return await use(`http://127.0.0.1:${port}/${token}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function serve(at: ObjectAt, size: number, token: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.url !== `/${token}` || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(404).end();
    return;
  }
  const range = byteRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const headers: Record<string, string | number> = { 'accept-ranges': 'bytes', 'content-length': end - start + 1, 'content-type': 'application/octet-stream' };
  if (range !== undefined) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range === undefined ? 200 : 206, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  const ac = new AbortController();
  // ffmpeg drops a connection as soon as it seeks elsewhere: stop reading the store then.
  res.once('close', () => ac.abort());
  const got = await at.store.get(at.bucket, at.key, { range: { start, end }, signal: ac.signal });
  await pipeline(got.body, res).catch(() => undefined);
}

function byteRange(header: string | undefined, size: number): ResolvedRange | 'unsatisfiable' | undefined {
  try {
    return parseRange(header, size);
  } catch {
    return 'unsatisfiable';
  }
}
