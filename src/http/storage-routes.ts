import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { Services } from '../services/services.ts';
import { requirePrincipal } from './auth-hook.ts';
import type { FastPaths } from './fast-path.ts';
import { registerPreviewRoutes } from './preview-routes.ts';
import { registerRemoteRoutes } from './remote-routes.ts';
import { hotOriginalsHandler } from './hot-originals.ts';
import { sendObject } from './send-object.ts';

/**
 * Serves our two buckets at `GET|HEAD /<bucket>/<key>` (the `pathOriginal` of
 * items), with Range, ETag and If-None-Match, to an API key or a signed URL,
 * linked objects at `/remote/<scheme>/<bucket>/<key>` (see remote-routes.ts),
 * and previews and conversions of both (see preview-routes.ts).
 */
export function registerStorageRoutes(app: FastifyInstance, services: Services, fast?: FastPaths): void {
  const { publicBucket, privateBucket } = services.config.storage;
  const buckets = new Set([publicBucket, privateBucket]);
  const handlerFor = (bucket: string) => async (req: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
    await requirePrincipal(req, services, { allowSigned: true });
    const key = req.params['*'];
    if (key === '') throw new AppError('NotFound', 'no key in path', { bucket });
    return sendObject(req, reply, { store: services.store, bucket, key, conditional: true, hot: services.hot });
  };
  fast?.add(hotOriginalsHandler(buckets, services.hot, services.auth));
  for (const bucket of buckets) {
    app.route({ method: ['GET', 'HEAD'], url: `/${bucket}/*`, handler: handlerFor(bucket) });
  }
  registerRemoteRoutes(app, services);
  registerPreviewRoutes(app, services, fast);
}
