import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import type { Services } from '../services/services.ts';
import type { ApiMethod } from './api-method.ts';
import { requirePrincipal } from './auth-hook.ts';
import { baseUrlOf } from './base-url.ts';

/**
 * Mounts `/public/api/v3/:method`: finds the method, checks the key, validates
 * the input (JSON body, form body or query string) and runs the handler.
 */
export function registerApi(app: FastifyInstance, services: Services, methods: ReadonlyArray<ApiMethod>): void {
  const byName = new Map<string, ApiMethod>(methods.map((m) => [m.name, m]));
  const handler = async (req: FastifyRequest<{ Params: { method: string } }>, reply: FastifyReply) => {
    const method = byName.get(req.params.method);
    if (method === undefined) {
      throw new AppError('NotFound', `unknown API method "${req.params.method}"`, { method: req.params.method });
    }
    const verbs = method.verbs ?? ['POST'];
    if (!verbs.includes(req.method as 'GET' | 'POST')) {
      throw new AppError('InvalidInput', `${method.name} expects ${verbs.join(' or ')}`, { method: method.name });
    }
    const principal = await requirePrincipal(req, services, { allowSigned: false });
    if (method.admin === true && principal.role !== 'admin') {
      throw new AppError('Forbidden', `${method.name} needs an admin key`);
    }
    const raw = req.method === 'GET' ? req.query : (req.body ?? {});
    const input = method.input === undefined ? raw : await method.input.parseAsync(raw);
    const result = await method.handle({ input, principal, services, req, reply, baseUrl: baseUrlOf(req, services.config) });
    if (result === reply || reply.sent) return reply;
    return reply.type('application/json').send(result);
  };
  app.route({ method: ['GET', 'POST'], url: '/public/api/v3/:method', handler });
}
