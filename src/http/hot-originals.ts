/**
 * Small immutable originals held in memory ({@link HotObjectCache}), answered
 * at `GET /<bucket>/<key>` before routing (see fast-path.ts) with the headers
 * the storage routes send for them. Only a plain GET with a known API key and
 * a path that needs no decoding; everything else goes to the routes.
 */
import type { HotEntry, HotObjectCache } from '../cache/hot-objects.ts';
import type { AuthService } from '../services/auth.ts';
import { DEFAULT_CONTENT_TYPE } from '../storage/content-type.ts';
import type { FastHandler, FastReply } from './fast-path.ts';
import { plainKeyedGet } from './hot-derived.ts';

/** Cache-Control of stored objects (as send-object.ts sends it). */
export const STORED_CACHE_CONTROL = 'private, max-age=3600';

/** The fast handler for the given buckets' paths. */
export function hotOriginalsHandler(buckets: ReadonlySet<string>, hot: HotObjectCache, auth: AuthService): FastHandler {
  // One reply per held entry, so the raw lane reuses its serialized headers.
  const replies = new WeakMap<HotEntry, FastReply>();
  return (req) => {
    const { url } = req;
    const slash = url.indexOf('/', 1);
    if (slash < 0 || url.includes('?') || url.includes('%')) return undefined;
    const bucket = url.slice(1, slash);
    const key = url.slice(slash + 1);
    if (key === '' || !buckets.has(bucket) || !plainKeyedGet(req, auth)) return undefined;
    const e = hot.get(bucket, key);
    if (e === undefined) return undefined;
    let reply = replies.get(e);
    if (reply === undefined) {
      reply = replyOf(e);
      replies.set(e, reply);
    }
    return reply;
  };
}

/** The headers the storage routes send for a whole object. */
function replyOf({ info, bytes }: HotEntry): FastReply {
  return {
    headers: [
      ['accept-ranges', 'bytes'], ['etag', info.etag], ['last-modified', info.lastModified.toUTCString()],
      ['content-type', info.contentType ?? DEFAULT_CONTENT_TYPE], ['cache-control', STORED_CACHE_CONTROL],
    ],
    body: bytes,
  };
}
