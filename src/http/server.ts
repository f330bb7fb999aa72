import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { parse as parseQuery } from 'node:querystring';
import { AppError } from '../errors.ts';
import type { Services } from '../services/services.ts';
import { registerApi } from './api-router.ts';
import { errorHandler } from './error-handler.ts';
import { FastPaths, fastServerFactory } from './fast-path.ts';
import { allMethods } from './methods/index.ts';
import { registerHealthRoutes } from './health-routes.ts';
import { registerMetricsRoute } from './metrics-route.ts';
import { registerStorageRoutes } from './storage-routes.ts';
import { registerWebRoutes } from './web-routes.ts';

/**
 * Builds the HTTP server: the compatible API, storage paths, one error handler.
 * Routes stay thin: they validate and call services.
 */
export async function buildServer(services: Services): Promise<FastifyInstance> {
  const { limits } = services.config;
  const fast = new FastPaths();
  const app = Fastify({
    serverFactory: fastServerFactory(fast),
    loggerInstance: services.log as FastifyBaseLogger,
    bodyLimit: limits.jsonBodyBytes,
    // Per-request log lines cost more than serving a small image; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    requestTimeout: 0,
  });
  app.addHook('preClose', (done) => {
    fast.close();
    done();
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error: `no route for ${req.method} ${req.url.split('?')[0]}`, details: { kind: 'NotFound' } });
  });
  // The seed's migration snippet posts `id=<n>` form-encoded to *.download.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseForm(String(body)));
  });
  await app.register(multipart, {
    // One byte over the limit reaches the ingest, which refuses the whole file;
    // at exactly the limit busboy would silently truncate it instead.
    limits: { fileSize: limits.uploadBytes + 1, files: 1000, fields: 1000, parts: 2000, fieldSize: 64 * 1024 },
    throwFileSizeLimit: true,
  });
  registerApi(app, services, allMethods);
  registerStorageRoutes(app, services, fast);
  registerMetricsRoute(app, services);
  registerHealthRoutes(app, services);
  registerWebRoutes(app);
  return app;
}

function parseForm(text: string): Record<string, unknown> {
  const parsed = parseQuery(text);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (Array.isArray(v)) throw new AppError('InvalidInput', `${k}: given more than once`, { field: k });
    out[k] = v;
  }
  return out;
}
