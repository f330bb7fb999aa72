import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CachedEntry } from '../cache/disk-cache.ts';
import { AppError, invalidInput } from '../errors.ts';
import { Converter, type DerivedPlan, type MediaContext } from '../media/convert-service.ts';
import { WorkSlots } from '../media/convert-slots.ts';
import { CONVERTER_ROOT, parseConverterUrl } from '../media/convert-url.ts';
import { derivedPathChain, PREVIEWS_ROOT, type PathRoots } from '../media/preview-paths.ts';
import { Previews } from '../media/preview-service.ts';
import type { ObjectAt } from '../media/preview-source.ts';
import type { Services } from '../services/services.ts';
import { pathOf } from './auth-hook.ts';
import type { FastPaths } from './fast-path.ts';
import { derivedHeaders, HotDerivedUrls, type DerivedTier, type RememberedUrl } from './hot-derived.ts';
import { parseRange, type ResolvedRange } from './range.ts';
import { linkOfRemotePath } from './remote-routes.ts';
import { etagMatches, sendObject } from './send-object.ts';
import { REMOTE_ROOT } from './wire.ts';

const IMMUTABLE = 'private, max-age=31536000, immutable';
const REVALIDATE = 'private, max-age=3600';

/**
 * Serves previews (`GET|HEAD /previews/…`, imgproxy style and legacy, see
 * src/media/preview-url.ts) and the image converter (`/image-converter/…`,
 * see src/media/convert-url.ts), to an API key or a signed URL, from the
 * previews and converter caches, with ETag, 304, Range and HEAD.
 *
 * A signed URL of the preview path itself is accepted, and so is one of the
 * path it reads: a browser holding a signed storage URL builds previews of it
 * the way the SDK does (inserting `/previews/…/plain` keeps the query).
 */
export function registerPreviewRoutes(app: FastifyInstance, services: Services, fast?: FastPaths): void {
  const { publicBucket, privateBucket } = services.config.storage;
  const roots: PathRoots = { publicBucket, privateBucket, remoteRoot: REMOTE_ROOT };
  const ctx: MediaContext = {
    store: services.store, roots, locate: locator(services, roots), slots: new WorkSlots(),
    tmpDir: join(services.config.dataPath, 'tmp', 'previews'),
  };
  const previewTier: DerivedTier = { cache: services.caches.previews, hot: services.hot, name: PREVIEWS_ROOT };
  const converterTier: DerivedTier = { cache: services.caches.converter, hot: services.hot, name: CONVERTER_ROOT };
  const converter = new Converter(ctx);
  const previews = new Previews(ctx, converter, converterTier.cache);
  const hotUrls = fast === undefined ? undefined : new HotDerivedUrls(services.auth);
  if (hotUrls !== undefined) fast?.add(hotUrls.handler);
  app.route({
    method: ['GET', 'HEAD'],
    url: `/${PREVIEWS_ROOT}/*`,
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      const path = await authorize(req, services, roots);
      const plan = await previews.plan(path.slice(PREVIEWS_ROOT.length + 2), req.query as Record<string, unknown>);
      return sendDerived(req, reply, previewTier, plan, hotUrls);
    },
  });
  app.route({
    method: ['GET', 'HEAD'],
    url: `/${CONVERTER_ROOT}/*`,
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      const path = await authorize(req, services, roots);
      const plan = await converter.plan(parseConverterUrl(path.slice(CONVERTER_ROOT.length + 2), req.query as Record<string, unknown>));
      if (plan.kind === 'converted') return sendDerived(req, reply, converterTier, plan, hotUrls);
      const { at } = plan;
      return sendObject(req, reply, { store: at.store, bucket: at.bucket, key: at.key, guessContentType: true, conditional: true });
    },
  });
}

/**
 * Checks the API key, or a signed query of the path or of a path it reads;
 * returns the request's path (percent-encoded, no query).
 */
async function authorize(req: FastifyRequest, services: Services, roots: PathRoots): Promise<string> {
  const path = pathOf(req.url);
  const header = req.headers['x-api-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key !== undefined) {
    await services.auth.authenticate(key);
    return path;
  }
  const q = req.query as Record<string, string | undefined>;
  let chain = [path];
  try {
    chain = derivedPathChain(path, roots);
  } catch { /* a malformed path is refused below, or reported once authorised */ }
  let first: unknown;
  for (const candidate of chain) {
    try {
      services.signer.verify(candidate, q['expires'], q['signature']);
      return path;
    } catch (err) {
      first ??= err;
    }
  }
  throw first;
}

/** Resolves a storage path (percent-encoded, no leading `/`) in our buckets or a remote connection. */
function locator(services: Services, roots: PathRoots): (path: string) => ObjectAt {
  return (encoded) => {
    let path: string;
    try {
      path = decodeURIComponent(encoded);
    } catch {
      throw invalidInput('path', 'path: malformed percent-encoding');
    }
    const slash = path.indexOf('/');
    const [root, rest] = slash === -1 ? [path, ''] : [path.slice(0, slash), path.slice(slash + 1)];
    if (root === roots.publicBucket || root === roots.privateBucket) {
      if (rest === '') throw invalidInput('path', `path: no key after /${root}/`);
      return { store: services.store, bucket: root, key: rest };
    }
    if (root === REMOTE_ROOT) {
      const r = services.links.resolve(linkOfRemotePath(rest), 'path');
      return { store: r.store, bucket: r.bucket, key: r.key };
    }
    throw invalidInput('path', `path: /${root} is not a storage path: it must start with /${roots.publicBucket}/, /${roots.privateBucket}/, /${REMOTE_ROOT}/ or /${CONVERTER_ROOT}/`);
  };
}

/** Metadata of a derived image being sent. */
interface Sendable {
  size: number;
  contentType: string;
  etag: string;
}

/**
 * Sends a preview or conversion: from memory when held there, else from its
 * disk cache entry (made first if missing). Small outputs are then kept in
 * memory (`CACHE_MEMORY_SIZE`, shared with hot originals): a file open, stat,
 * read and close per request would cost several times the request itself.
 */
async function sendDerived(req: FastifyRequest, reply: FastifyReply, tier: DerivedTier, plan: DerivedPlan, hotUrls?: HotDerivedUrls): Promise<FastifyReply> {
  const cacheControl = plan.immutable ? IMMUTABLE : REVALIDATE;
  // The ETag is a hash of the source's identity and the options, so a revalidation needs no work at all.
  if (etagMatches(req.headers['if-none-match'], plan.etag)) {
    return reply.code(304).header('etag', plan.etag).header('cache-control', cacheControl).send();
  }
  const hotKey = `${plan.hash}.bin`;
  const held = tier.hot.get(tier.name, hotKey);
  // The disk entry decides freshness (expiry, `stowage cache clear`); the memory copy only saves reading it.
  if (held !== undefined && tier.cache.memoryHit(plan.key, held.bytes.length)) {
    rememberUrl(req, hotUrls, plan, { tier, key: plan.key, hotKey, cacheControl });
    return sendBytes(req, reply, held.bytes, { ...held.info, contentType: held.info.contentType ?? '' }, cacheControl, 'hit');
  }
  let made: Buffer | undefined;
  const fill = async () => {
    const r = await plan.fill();
    made = r.bytes;
    return r;
  };
  const { entry, hit } = await withRetryAfter(reply, tier.cache.getOrFill(plan.key, fill));
  const state = hit ? 'hit' : 'miss';
  if (!tier.hot.accepts(hotKey, entry.size)) return sendStream(req, reply, entry, cacheControl, state);
  // The request whose fill made the output has its bytes already; others read the entry once.
  const bytes = made ?? await collect(entry.open());
  keepInMemory(tier, hotKey, bytes, entry);
  rememberUrl(req, hotUrls, plan, { tier, key: plan.key, hotKey, cacheControl });
  return sendBytes(req, reply, bytes, entry, cacheControl, state);
}

/** Lets the fast path answer this URL next time: only for API keys, no query, and bytes that never change. */
function rememberUrl(req: FastifyRequest, hotUrls: HotDerivedUrls | undefined, plan: DerivedPlan, r: RememberedUrl): void {
  if (hotUrls === undefined || !plan.immutable || req.url.includes('?') || req.headers['x-api-key'] === undefined) return;
  hotUrls.remember(req.url, r);
}

function keepInMemory(tier: DerivedTier, hotKey: string, bytes: Buffer, entry: CachedEntry): void {
  entry.release();
  const info = { bucket: tier.name, key: hotKey, size: bytes.length, etag: entry.etag, lastModified: entry.lastModified, contentType: entry.contentType };
  tier.hot.set(tier.name, hotKey, { info, bytes });
}

function sendBytes(req: FastifyRequest, reply: FastifyReply, bytes: Buffer, s: Sendable, cacheControl: string, state: string): FastifyReply {
  const range = setHeaders(req, reply, s, cacheControl, state);
  if (req.method === 'HEAD') return reply.send();
  return reply.send(range === undefined ? bytes : bytes.subarray(range.start, range.end + 1));
}

function sendStream(req: FastifyRequest, reply: FastifyReply, entry: CachedEntry, cacheControl: string, state: string): FastifyReply {
  const range = setHeaders(req, reply, entry, cacheControl, state);
  if (req.method === 'HEAD') {
    entry.release();
    return reply.send();
  }
  return reply.send(entry.open(range));
}

/** Type, ETag, caching, length or range (206), and `x-stowage-cache: hit|miss`; returns the range served. */
function setHeaders(req: FastifyRequest, reply: FastifyReply, s: Sendable, cacheControl: string, state: string): ResolvedRange | undefined {
  const range = parseRange(req.headers.range, s.size);
  for (const [name, value] of derivedHeaders(s.contentType, s.etag, cacheControl, state)) reply.header(name, value);
  if (range === undefined) reply.header('content-length', s.size);
  else reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${s.size}`).header('content-length', range.end - range.start + 1);
  return range;
}

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A full work queue is a 503: tell clients when to come back. */
async function withRetryAfter<T>(reply: FastifyReply, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof AppError && err.kind === 'Unavailable') reply.header('retry-after', '2');
    throw err;
  }
}
