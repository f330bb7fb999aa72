/**
 * A read-only {@link ObjectStore} over public http(s) links, e.g.
 * `https://s3-us-west-2.amazonaws.com/test1/abc`: the bucket is the link's
 * origin and the key its path and query (see {@link publicLinkLocation}).
 * Every request passes the SSRF guard (see ./ssrf-guard.ts), redirects
 * included, and connects to the address the guard approved.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { StorageError, isStorageError } from '../storage/errors.ts';
import type { ByteRange, GetOptions, GetResult, ObjectInfo, ObjectStore } from '../storage/object-store.ts';
import { STOWAGE_VERSION } from '../version.ts';
import { discard, fetchLink, linkError, type LinkClient, type LinkContext, type RequestFn } from './public-http.ts';
import { linkLabel, publicLinkUrl } from './public-location.ts';
import { checkEncoding, contentLength, objectInfo, parseContentRange, release, sliceBody, statusError } from './public-response.ts';
import { PUBLIC_PROVIDER, type Resolver } from './ssrf-guard.ts';

export { linkLabel, publicLinkLocation, publicLinkUrl, type PublicLinkLocation } from './public-location.ts';
export type { RequestFn } from './public-http.ts';

/** Options of {@link createPublicLinkStore}. */
export interface PublicLinkStoreOptions {
  /** Hosts allowed to resolve to non-public addresses (`LINKS_ALLOW_HOSTS`). */
  allowHosts: readonly string[];
  /** Name resolution (default: the system's `dns.lookup`); tests inject their own. */
  resolver?: Resolver | undefined;
  /** Redirects followed per request, default 5. */
  maxRedirects?: number | undefined;
  /** Default 10 s. */
  connectTimeoutMs?: number | undefined;
  /** Longest silence of the remote before the headers or between body bytes, default 30 s. */
  requestTimeoutMs?: number | undefined;
  userAgent?: string | undefined;
  /** Replaces `http.request`/`https.request` (tests observe the pinned lookup with it). */
  request?: RequestFn | undefined;
}

// Servers (and presigned URLs, signed for GET only) that refuse HEAD; a 1-byte GET tells the size instead.
const HEAD_REFUSED = new Set([400, 403, 405, 501]);

/** Creates the read-only store of public links. */
export function createPublicLinkStore(options: PublicLinkStoreOptions): ObjectStore {
  const client = linkClient(options);
  return {
    provider: PUBLIC_PROVIDER,
    capabilities: { multipart: false, serverSideCopy: false, conditionalPut: false, presignedUrls: false, maxObjectSize: Number.MAX_SAFE_INTEGER },
    get: (bucket, key, getOptions) => getObject(client, { bucket, key }, getOptions ?? {}),
    head: (bucket, key) => headObject(client, { bucket, key }),
    exists: async (bucket, key) => {
      try {
        await headObject(client, { bucket, key });
        return true;
      } catch (err) {
        if (isStorageError(err, 'NotFound')) return false;
        throw err;
      }
    },
    put: readOnly('put'),
    putFile: readOnly('putFile'),
    list: readOnly('list'),
    copy: readOnly('copy'),
    delete: readOnly('delete'),
    createMultipart: readOnly('createMultipart'),
    ensureBucket: readOnly('ensureBucket'),
    close: async () => {
      client.agents.http.destroy();
      client.agents.https.destroy();
    },
  };
}

function linkClient(options: PublicLinkStoreOptions): LinkClient {
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  // Own agents: the global ones may be set up to use proxies, which would bypass the pinned address.
  const agentOptions = { keepAlive: true, maxSockets: 32, maxFreeSockets: 8, timeout: requestTimeoutMs };
  return {
    allowHosts: options.allowHosts,
    resolver: options.resolver,
    maxRedirects: options.maxRedirects ?? 5,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    requestTimeoutMs,
    userAgent: options.userAgent ?? `Stowage/${STOWAGE_VERSION}`,
    agents: { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) },
    request: options.request,
  };
}

function readOnly(op: string) {
  return async (bucket: string, key?: unknown): Promise<never> => {
    throw new StorageError('NotSupported', `public links are read-only: ${op} is not supported`, {
      bucket, key: typeof key === 'string' ? key : undefined, provider: PUBLIC_PROVIDER,
    });
  };
}

async function getObject(client: LinkClient, ctx: LinkContext, options: GetOptions): Promise<GetResult> {
  const url = publicLinkUrl(ctx.bucket, ctx.key);
  const { range } = options;
  if (range !== undefined) checkRange(range, ctx);
  const headers = range === undefined ? undefined : { range: `bytes=${range.start}-${range.end ?? ''}` };
  const { res } = await fetchLink(client, { method: 'GET', url, ctx, headers, signal: options.signal });
  if (res.statusCode === 206) return fromPartial(res, url, ctx, range);
  if (res.statusCode === 200) return fromFull(res, url, ctx, range);
  discard(res);
  throw statusError(res.statusCode ?? 0, url, ctx);
}

/** A 206: the server honoured the range, maybe starting earlier than asked. */
function fromPartial(res: IncomingMessage, url: URL, ctx: LinkContext, range: ByteRange | undefined): GetResult {
  checkEncoding(res, url, ctx);
  const served = parseContentRange(res.headers['content-range']);
  const size = served?.size;
  if (served?.start === undefined || served.end === undefined || size === undefined) {
    res.destroy();
    throw linkError('Unavailable', `link ${linkLabel(url)} sent a partial answer without a usable Content-Range`, ctx);
  }
  const start = range?.start ?? 0;
  const end = Math.min(range?.end ?? size - 1, size - 1, served.end);
  if (start >= size || served.start > start || end < start || (range === undefined && end !== size - 1)) {
    res.destroy();
    if (start >= size) throw rangePastEnd(url, ctx, start, size);
    throw linkError('Unavailable', `link ${linkLabel(url)} sent bytes ${served.start}-${served.end} instead of ${start}-${range?.end ?? ''}`, ctx);
  }
  const body = sliceBody(res, start - served.start, end - start + 1, url, ctx);
  const info = objectInfo(res, ctx, size);
  return range === undefined ? { info, body } : { info, body, range: { start, end } };
}

/** A 200: the whole object, trimmed here when a range was asked for and ignored. */
function fromFull(res: IncomingMessage, url: URL, ctx: LinkContext, range: ByteRange | undefined): GetResult {
  checkEncoding(res, url, ctx);
  const size = contentLength(res);
  if (size === undefined) {
    res.destroy();
    throw linkError('Unavailable', `link ${linkLabel(url)} does not say its size (no Content-Length)`, ctx);
  }
  const info = objectInfo(res, ctx, size);
  if (range === undefined) return { info, body: sliceBody(res, 0, size, url, ctx) };
  if (range.start >= size) {
    res.destroy();
    throw rangePastEnd(url, ctx, range.start, size);
  }
  const end = Math.min(range.end ?? size - 1, size - 1);
  return { info, body: sliceBody(res, range.start, end - range.start + 1, url, ctx), range: { start: range.start, end } };
}

/** HEAD, or a 1-byte GET when the server refuses HEAD or does not say the size. */
async function headObject(client: LinkClient, ctx: LinkContext): Promise<ObjectInfo> {
  const url = publicLinkUrl(ctx.bucket, ctx.key);
  const head = await fetchLink(client, { method: 'HEAD', url, ctx });
  const status = head.res.statusCode ?? 0;
  head.res.resume(); // a HEAD answer has no body
  if (status === 200) {
    const size = contentLength(head.res);
    if (size !== undefined) return objectInfo(head.res, ctx, size);
  } else if (!HEAD_REFUSED.has(status)) {
    throw statusError(status, url, ctx);
  }
  const { res } = await fetchLink(client, { method: 'GET', url, ctx, headers: { range: 'bytes=0-0' } });
  const size = probedSize(res);
  if (res.statusCode === 200) release(res);
  else discard(res);
  if (size !== undefined) return objectInfo(res, ctx, size);
  if (res.statusCode === 200 || res.statusCode === 206) {
    throw linkError('Unavailable', `link ${linkLabel(url)} does not say its size`, ctx);
  }
  throw statusError(res.statusCode ?? 0, url, ctx);
}

/** Size from a `bytes=0-0` probe: 206 and 416 (an empty object) carry it in Content-Range, 200 in Content-Length. */
function probedSize(res: IncomingMessage): number | undefined {
  if (res.statusCode === 206 || res.statusCode === 416) return parseContentRange(res.headers['content-range'])?.size;
  if (res.statusCode === 200) return contentLength(res);
  return undefined;
}

function checkRange(range: ByteRange, ctx: LinkContext): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw linkError('InvalidRange', `malformed range ${start}-${end ?? ''}`, ctx);
  }
}

function rangePastEnd(url: URL, ctx: LinkContext, start: number, size: number): StorageError {
  return linkError('InvalidRange', `range starts at ${start} but link ${linkLabel(url)} has ${size} bytes`, ctx);
}
