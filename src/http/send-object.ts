import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { parseRange } from './range.ts';

/** How to send one stored object. */
export interface SendOptions {
  store: ObjectStore;
  bucket: string;
  key: string;
  /** base64 SHA-256 of the whole object, sent as `x-content-checksum-sha256` on full replies. */
  checksum?: string | null | undefined;
  /** Overrides the stored content type. */
  contentType?: string | null | undefined;
  /** Suggested download name (Content-Disposition). */
  filename?: string | undefined;
  /** Honour If-None-Match with 304. */
  conditional?: boolean;
}

/**
 * Streams an object with `Accept-Ranges`, `ETag`, single-range 206 replies and
 * optional `x-content-checksum-sha256`. The body is never buffered.
 */
export async function sendObject(req: FastifyRequest, reply: FastifyReply, o: SendOptions): Promise<FastifyReply> {
  const rangeHeader = req.headers.range;
  const info = rangeHeader === undefined && req.method !== 'HEAD' ? undefined : await o.store.head(o.bucket, o.key);
  const range = info === undefined ? undefined : parseRange(rangeHeader, info.size);
  if (o.conditional === true && info !== undefined && req.headers['if-none-match'] === info.etag) {
    return reply.code(304).header('etag', info.etag).send();
  }
  if (req.method === 'HEAD' && info !== undefined) {
    setHeaders(reply, o, info.etag, info.contentType, range === undefined);
    return reply.header('content-length', info.size).send();
  }
  const got = await o.store.get(o.bucket, o.key, range === undefined ? {} : { range });
  if (o.conditional === true && req.headers['if-none-match'] === got.info.etag) {
    got.body.destroy();
    return reply.code(304).header('etag', got.info.etag).send();
  }
  setHeaders(reply, o, got.info.etag, got.info.contentType, range === undefined);
  got.body.on('error', (err) => req.log.warn({ err: String(err) }, 'object stream failed mid-reply'));
  if (range !== undefined) {
    reply.code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${got.info.size}`)
      .header('content-length', range.end - range.start + 1);
  } else {
    reply.header('content-length', got.info.size);
  }
  return reply.send(got.body);
}

function setHeaders(reply: FastifyReply, o: SendOptions, etag: string, storedType: string | undefined, full: boolean): void {
  reply.header('accept-ranges', 'bytes').header('etag', etag)
    .header('content-type', o.contentType ?? storedType ?? 'application/octet-stream')
    .header('cache-control', 'private, max-age=3600');
  if (full && o.checksum) reply.header('x-content-checksum-sha256', o.checksum);
  if (o.filename !== undefined) {
    reply.header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(o.filename)}`);
  }
}

/** Throws unless the entity has bytes we can read. */
export function requireStored<T extends { bucket: string | null; storageKey: string | null; id: number }>(item: T): { bucket: string; key: string } {
  if (item.bucket === null || item.storageKey === null) {
    throw new AppError('NotFound', `item ${item.id} has no stored bytes`, { id: item.id });
  }
  return { bucket: item.bucket, key: item.storageKey };
}
