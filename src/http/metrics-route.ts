import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CACHE_TIERS } from '../cache/cache-tiers.ts';
import { renderCacheMetrics } from '../cache/cache-metrics.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../services/services.ts';

/**
 * `GET /metrics`: the caches' counters in Prometheus text format, for an admin
 * key in `x-api-key` or, as Prometheus' `authorization` scrape setting sends
 * it, `Authorization: Bearer <key>`.
 */
export function registerMetricsRoute(app: FastifyInstance, services: Services): void {
  app.get('/metrics', async (req, reply) => {
    const principal = await services.auth.authenticate(keyOf(req));
    if (principal.role !== 'admin') throw new AppError('Forbidden', 'GET /metrics needs an admin key');
    const { bytes, entries, maxBytes } = services.hot.stats();
    const body = renderCacheMetrics(CACHE_TIERS.map((t) => services.caches[t].stats()), { sizeBytes: bytes, entries, maxBytes });
    return reply.header('cache-control', 'no-store').type('text/plain; version=0.0.4; charset=utf-8').send(body);
  });
}

function keyOf(req: FastifyRequest): string | undefined {
  const header = req.headers['x-api-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key !== undefined) return key;
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}
