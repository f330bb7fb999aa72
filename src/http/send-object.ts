import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { HotEntry, HotObjectCache } from '../cache/hot-objects.ts';
import type { ObjectInfo, ObjectStore } from '../storage/object-store.ts';
import { parseRange, type ResolvedRange } from './range.ts';
import { contentTypeFor, DEFAULT_CONTENT_TYPE } from '../storage/content-type.ts';

/** How to send one stored object. */
export interface SendOptions {
  store: ObjectStore;
  bucket: string;
  key: string;
  /** base64 SHA-256 of the whole object, sent as `x-content-checksum-sha256` on full replies. */
  checksum?: string | null | undefined;
  /** Overrides the stored content type. */
  contentType?: string | null | undefined;
  /**
   * When the store knows no type, or only `application/octet-stream` (what
   * uploads without one get), guess it from the key's extension, so browsers
   * show images and play videos inline. For objects we did not store.
   */
  guessContentType?: boolean | undefined;
  /** Suggested download name (Content-Disposition). */
  filename?: string | undefined;
  /** Honour If-None-Match with 304. */
  conditional?: boolean;
  /** Small immutable objects are served from (and kept in) memory. */
  hot?: HotObjectCache | undefined;
}

/**
 * Sends an object with `Accept-Ranges`, `ETag`, single-range 206 replies and
 * optional `x-content-checksum-sha256`. Bodies stream from the store; only
 * small immutable objects (see {@link HotObjectCache}) are held in memory.
 */
export async function sendObject(req: FastifyRequest, reply: FastifyReply, o: SendOptions): Promise<FastifyReply> {
  const hit = o.hot?.get(o.bucket, o.key);
  if (hit !== undefined) return sendEntry(req, reply, o, hit);
  const rangeHeader = req.headers.range;
  const info = rangeHeader === undefined && req.method !== 'HEAD' ? undefined : await o.store.head(o.bucket, o.key);
  if (info !== undefined) {
    const range = parseRange(rangeHeader, info.size);
    if (notModified(req, reply, o, info.etag)) return reply.send();
    if (req.method === 'HEAD') return head(reply, o, info, range);
    const got = await o.store.get(o.bucket, o.key, range === undefined ? {} : { range });
    return streamBody(req, reply, o, got.info, got.body, range);
  }
  const got = await o.store.get(o.bucket, o.key);
  if (notModified(req, reply, o, got.info.etag)) {
    got.body.destroy();
    return reply.send();
  }
  if (o.hot?.accepts(o.key, got.info.size) === true) {
    const entry = { info: got.info, bytes: await collect(got.body) };
    o.hot.set(o.bucket, o.key, entry);
    return sendEntry(req, reply, o, entry);
  }
  return streamBody(req, reply, o, got.info, got.body, undefined);
}

/** Whether an `If-None-Match` header names `etag`: one of a list, weak or not, or `*`. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

function notModified(req: FastifyRequest, reply: FastifyReply, o: SendOptions, etag: string): boolean {
  if (o.conditional !== true || !etagMatches(req.headers['if-none-match'], etag)) return false;
  reply.code(304).header('etag', etag);
  return true;
}

function head(reply: FastifyReply, o: SendOptions, info: ObjectInfo, range: ResolvedRange | undefined): FastifyReply {
  setHeaders(reply, o, info, range);
  return reply.send();
}

function streamBody(
  req: FastifyRequest, reply: FastifyReply, o: SendOptions, info: ObjectInfo, body: Readable, range: ResolvedRange | undefined,
): FastifyReply {
  setHeaders(reply, o, info, range);
  body.on('error', (err) => req.log.warn({ err: String(err) }, 'object stream failed mid-reply'));
  return reply.send(body);
}

function sendEntry(req: FastifyRequest, reply: FastifyReply, o: SendOptions, e: HotEntry): FastifyReply {
  if (notModified(req, reply, o, e.info.etag)) return reply.send();
  const range = parseRange(req.headers.range, e.info.size);
  setHeaders(reply, o, e.info, range);
  if (req.method === 'HEAD') return reply.send();
  return reply.send(range === undefined ? e.bytes : e.bytes.subarray(range.start, range.end + 1));
}

/** The headers of every answer with an object's bytes (also sent by the fast path, hot-originals.ts). */
export function objectHeaders(info: ObjectInfo, contentType: string): Array<[string, string]> {
  return [
    ['accept-ranges', 'bytes'], ['etag', info.etag], ['last-modified', info.lastModified.toUTCString()],
    ['content-type', contentType], ['cache-control', 'private, max-age=3600'],
  ];
}

function setHeaders(reply: FastifyReply, o: SendOptions, info: ObjectInfo, range: ResolvedRange | undefined): void {
  for (const [name, value] of objectHeaders(info, o.contentType ?? storedType(o, info))) reply.header(name, value);
  if (range === undefined) {
    reply.header('content-length', info.size);
    if (o.checksum) reply.header('x-content-checksum-sha256', o.checksum);
  } else {
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${info.size}`)
      .header('content-length', range.end - range.start + 1);
  }
  if (o.filename !== undefined) {
    reply.header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(o.filename)}`);
  }
}

function storedType(o: SendOptions, info: ObjectInfo): string {
  const known = info.contentType !== undefined && info.contentType !== DEFAULT_CONTENT_TYPE;
  if (known || o.guessContentType !== true) return info.contentType ?? DEFAULT_CONTENT_TYPE;
  return contentTypeFor(o.key);
}

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
