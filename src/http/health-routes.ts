import type { FastifyInstance } from 'fastify';
import type { Services } from '../services/services.ts';

/** Longest a readiness check may take before it counts as a failure. */
const READY_TIMEOUT_MS = 3_000;

/**
 * Probes for load balancers, without authentication and with no secrets in
 * the answers: `GET /healthz` (the process answers) and `GET /readyz` (the
 * catalog answers a query and the primary storage a metadata request; 503
 * naming what failed otherwise).
 */
export function registerHealthRoutes(app: FastifyInstance, services: Services): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const [catalog, storage] = await Promise.all([
      check(() => services.catalog.settings.get('__readyz__')),
      // A listing of one key proves the bucket answers; the object may or may not exist.
      check(() => services.store.list(services.config.storage.publicBucket, { maxKeys: 1 })),
    ]);
    const ready = catalog === 'ok' && storage === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', catalog, storage });
  });
}

async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch (err) {
    // StorageError messages name the bucket and endpoint, never credentials.
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}
