/**
 * Reading the responses of public links: statuses to {@link StorageError}
 * kinds, headers to {@link ObjectInfo}, and bodies trimmed to the byte range
 * the caller asked for (servers may ignore `Range` and send everything).
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { StorageErrorKind } from '../storage/errors.ts';
import type { ObjectInfo } from '../storage/object-store.ts';
import { linkError, type LinkContext } from './public-http.ts';
import { linkLabel } from './public-location.ts';

/** A parsed `Content-Range: bytes start-end/size` (or `bytes *\/size`). */
export interface ContentRange {
  start?: number | undefined;
  end?: number | undefined;
  size?: number | undefined;
}

/** The error of a status that is neither success nor redirect. */
export function statusError(status: number, url: URL, ctx: LinkContext): Error {
  const [kind, what] = statusKind(status);
  return linkError(kind, `link ${linkLabel(url)} ${what} (HTTP ${status})`, ctx);
}

function statusKind(status: number): [StorageErrorKind, string] {
  if (status === 404 || status === 410) return ['NotFound', 'not found'];
  if (status === 401 || status === 403) return ['PermissionDenied', 'refuses access'];
  if (status === 416) return ['InvalidRange', 'cannot serve the requested range'];
  if (status === 429 || status === 503) return ['RateLimited', 'asks to retry later'];
  return ['Unavailable', status >= 500 ? 'failed on the remote server' : 'answered with an unexpected status'];
}

/** `Content-Length` as a number; undefined when missing or malformed. */
export function contentLength(res: IncomingMessage): number | undefined {
  return nonNegative(res.headers['content-length']);
}

/** Parses `Content-Range`; undefined when missing or not a byte range. */
export function parseContentRange(header: string | undefined): ContentRange | undefined {
  const m = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(header?.trim() ?? '');
  if (m === null) return undefined;
  const start = nonNegative(m[1]);
  const end = nonNegative(m[2]);
  if (start !== undefined && end !== undefined && end < start) return undefined;
  return { start, end, size: nonNegative(m[3]) };
}

/**
 * Object metadata from response headers. Without an `ETag`, a weak one is
 * made from `Last-Modified` and the size so clients can still revalidate.
 */
export function objectInfo(res: IncomingMessage, ctx: LinkContext, size: number): ObjectInfo {
  const modified = dateHeader(res.headers['last-modified']);
  const etag = res.headers.etag?.trim();
  const weak = `W/"${size.toString(16)}-${(modified?.getTime() ?? 0).toString(16)}"`;
  return {
    bucket: ctx.bucket,
    key: ctx.key,
    size,
    etag: etag === undefined || etag === '' ? weak : quoted(etag),
    lastModified: modified ?? dateHeader(res.headers.date) ?? new Date(),
    contentType: res.headers['content-type'],
  };
}

/** `Unavailable` unless the body is sent as is (we asked for `identity`). */
export function checkEncoding(res: IncomingMessage, url: URL, ctx: LinkContext): void {
  const encoding = res.headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    res.destroy();
    throw linkError('Unavailable', `link ${linkLabel(url)} sent ${encoding}-encoded content although identity was asked for`, ctx);
  }
}

/**
 * The `take` bytes of `src` that follow its first `skip` bytes. The response
 * is cut as soon as they are read; ending early or failing is `Unavailable`.
 */
export function sliceBody(src: IncomingMessage, skip: number, take: number, url: URL, ctx: LinkContext): Readable {
  let seen = 0;
  let sent = 0;
  let done = false;
  const out = new Readable({
    read: () => { src.resume(); },
    destroy: (err, callback) => {
      release(src);
      callback(err);
    },
  });
  const finish = () => {
    done = true;
    out.push(null);
    release(src);
  };
  src.on('data', (chunk: Buffer) => {
    if (done) return;
    const from = Math.max(0, skip - seen);
    seen += chunk.length;
    const part = chunk.subarray(from, from + take - sent);
    sent += part.length;
    if (part.length > 0 && !out.push(part)) src.pause();
    if (sent === take) finish();
  });
  const fail = (why: string, cause?: unknown) => {
    if (!done) out.destroy(linkError('Unavailable', `link ${linkLabel(url)} ${why} after ${sent} of ${take} bytes`, ctx, cause));
  };
  src.on('end', () => fail('ended'));
  src.on('error', (err) => fail('stopped sending', err));
  if (take === 0) finish();
  return out;
}

/** Frees the connection: drains a complete response (keeps the socket), cuts an incomplete one. */
export function release(res: IncomingMessage): void {
  if (res.complete) res.resume();
  else res.destroy();
}

function nonNegative(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

function dateHeader(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function quoted(etag: string): string {
  return /^(W\/)?".*"$/.test(etag) ? etag : `"${etag.replace(/"/g, '')}"`;
}
