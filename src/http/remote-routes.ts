import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { Services } from '../services/services.ts';
import { requirePrincipal } from './auth-hook.ts';
import { sendObject } from './send-object.ts';
import { REMOTE_ROOT } from './wire.ts';

/**
 * Serves linked objects at `GET|HEAD /remote/<scheme>/<bucket>/<key>` (the
 * `pathOriginal` of items added by bucket link), streamed from the connection
 * that serves the bucket, with Range, ETag, Last-Modified and If-None-Match,
 * to an API key or a signed URL. The object stays where it is: nothing is
 * copied or cached.
 */
export function registerRemoteRoutes(app: FastifyInstance, services: Services): void {
  // One wildcard rather than `:scheme/:bucket/*`: route parameters are capped at 100 characters, bucket names are not.
  app.route({
    method: ['GET', 'HEAD'],
    url: `/${REMOTE_ROOT}/*`,
    handler: async (req: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
      await requirePrincipal(req, services, { allowSigned: true });
      const link = linkOfRemotePath(req.params['*']);
      const at = services.links.resolve(link, 'path');
      return sendObject(req, reply, {
        store: at.store, bucket: at.bucket, key: at.key, guessContentType: true,
        filename: at.key.slice(at.key.lastIndexOf('/') + 1), conditional: true,
      });
    },
  });
}

/**
 * The bucket link a remote storage path names: `<scheme>/<bucket>/<key>`
 * (already percent-decoded) → `<scheme>://<bucket>/<key>`. The link is then
 * checked like any other (schemes, `..` segments, the connection's buckets).
 */
export function linkOfRemotePath(rest: string): string {
  const m = /^([^/]+)\/([^/]+)\/(.+)$/s.exec(rest);
  if (m === null) {
    throw new AppError('InvalidInput', `path: expected /${REMOTE_ROOT}/<scheme>/<bucket>/<key>, as in the pathOriginal of a linked item`, { field: 'path' });
  }
  return `${m[1]}://${m[2]}/${m[3]}`;
}
