/**
 * Small immutable originals held in memory ({@link HotObjectCache}), answered
 * at `GET /<bucket>/<key>` before routing (see fast-path.ts) with the headers
 * the storage routes send for them. Only a plain GET with a known API key and
 * a path that needs no decoding; everything else goes to the routes.
 */
import type { HotEntry, HotObjectCache } from '../cache/hot-objects.ts';
import type { AuthService } from '../services/auth.ts';
import { DEFAULT_CONTENT_TYPE } from '../storage/content-type.ts';
import { plainKeyedGet, type FastHandler, type FastReply } from './fast-path.ts';
import { objectHeaders } from './send-object.ts';

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
      // As the storage routes answer a whole object (they send its stored type).
      reply = { headers: objectHeaders(e.info, e.info.contentType ?? DEFAULT_CONTENT_TYPE), body: e.bytes };
      replies.set(e, reply);
    }
    return reply;
  };
}
