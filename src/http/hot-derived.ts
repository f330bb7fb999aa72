/**
 * Warm previews and conversions answered by URL before routing (see
 * fast-path.ts). Once the routes have served a URL from an in-memory copy,
 * the URL is remembered with what they worked out for it (cache key, copy,
 * caching headers); the next request for the exact same URL is answered
 * from that copy, after the same checks: a key that is known valid, a disk
 * entry still fresh (expiry and `stowage cache clear` decide), the copy
 * still held. Only immutable sources are remembered, so a URL always means
 * the same bytes.
 */
import type { HotObjectCache } from '../cache/hot-objects.ts';
import type { MediaCache } from '../media/convert-service.ts';
import type { AuthService } from '../services/auth.ts';
import { plainKeyedGet, type FastHandler, type FastReply } from './fast-path.ts';

/** Where derived images of one kind live: the disk cache, and the in-memory copies of small ones. */
export interface DerivedTier {
  cache: MediaCache;
  hot: HotObjectCache;
  /** Namespace of this tier's entries in `hot`. */
  name: string;
}

/** What the routes worked out for a URL served from memory. */
export interface RememberedUrl {
  tier: DerivedTier;
  /** The disk cache key. */
  key: string;
  /** The in-memory copy's key in `tier.hot`. */
  hotKey: string;
  cacheControl: string;
  /** The reply last made from the in-memory copy, reused while the copy is the same. */
  reply?: FastReply | undefined;
}

/** URLs remembered at most; the oldest is forgotten first. */
const MAX_URLS = 20_000;

/** See the module comment. */
export class HotDerivedUrls {
  readonly #auth: AuthService;
  readonly #urls = new Map<string, RememberedUrl>();

  constructor(auth: AuthService) {
    this.#auth = auth;
  }

  /** Remembers a URL (without a query) just served from memory to an API key. */
  remember(url: string, r: RememberedUrl): void {
    if (this.#urls.has(url)) return;
    if (this.#urls.size >= MAX_URLS) {
      const oldest = this.#urls.keys().next();
      if (oldest.done !== true) this.#urls.delete(oldest.value);
    }
    this.#urls.set(url, r);
  }

  /** The fast handler: plain GETs with an API key, no range, no validator. */
  readonly handler: FastHandler = (req) => {
    const r = this.#urls.get(req.url);
    if (r === undefined || !plainKeyedGet(req, this.#auth)) return undefined;
    const held = r.tier.hot.get(r.tier.name, r.hotKey);
    if (held === undefined || !r.tier.cache.memoryHit(r.key, held.bytes.length)) {
      this.#urls.delete(req.url);
      return undefined;
    }
    if (r.reply?.body !== held.bytes) {
      r.reply = { headers: derivedHeaders(held.info.contentType ?? 'application/octet-stream', held.info.etag, r.cacheControl, 'hit'), body: held.bytes };
    }
    return r.reply;
  };
}

/** The headers of a derived image (preview, conversion) the routes and the fast path send; `state` is `hit` or `miss`. */
export function derivedHeaders(contentType: string, etag: string, cacheControl: string, state: string): Array<[string, string]> {
  return [['content-type', contentType], ['etag', etag], ['cache-control', cacheControl], ['accept-ranges', 'bytes'], ['x-stowage-cache', state]];
}
