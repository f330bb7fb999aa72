/**
 * Project migrations as API jobs (admin key only), so a web page or a script
 * can run and watch what `stowage migrate project` does:
 *
 * - `migrations.start {projectId, to, keepTree?, concurrency?, restart?}`
 *   checks the project and the target (bucket allowed by a connection,
 *   writable) and starts the job in the background, or resumes the
 *   unfinished job of the same project and target; `{id}` resumes a job.
 * - `migrations.status {id}`: the job with its counters (live while it runs).
 * - `migrations.cancel {id}`: stops it; it resumes from its last page when started again.
 * - `migrations.list`: the newest jobs.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { DEFAULT_BACKOFF } from '../../migrate/backoff.ts';
import { MigrationJobs } from '../../migrate/migration-jobs.ts';
import type { Services } from '../../services/services.ts';
import { defineMethod, type ApiMethod } from '../api-method.ts';
import { id, wireBool } from '../wire-types.ts';

/** One job manager per running instance, stopped with its server (jobs then resume when started again). */
const managers = new WeakMap<Services, MigrationJobs>();

function jobsOf(services: Services, req: FastifyRequest): MigrationJobs {
  let jobs = managers.get(services);
  if (jobs === undefined) {
    const made = new MigrationJobs({ catalog: services.catalog, items: services.items, links: services.links });
    req.server.server.once('close', () => void made.close());
    managers.set(services, made);
    jobs = made;
  }
  return jobs;
}

const startInput = z.object({
  id: id.optional(),
  projectId: id.optional(),
  to: z.string().min(1).max(2048).optional(),
  keepTree: wireBool.default(false),
  restart: wireBool.default(false),
  concurrency: z.coerce.number().int().min(1).max(100).default(10),
  retries: z.coerce.number().int().min(1).max(100).default(DEFAULT_BACKOFF.attempts),
  retryDelayMs: z.coerce.number().int().min(0).max(600_000).default(DEFAULT_BACKOFF.minDelayMs),
  retryMaxDelayMs: z.coerce.number().int().min(0).max(3_600_000).default(DEFAULT_BACKOFF.maxDelayMs),
}).refine((v) => v.id !== undefined || (v.projectId !== undefined && v.to !== undefined), {
  message: 'either id (to resume a job) or projectId and to are required', path: ['projectId'],
});

const start = defineMethod({
  name: 'migrations.start',
  admin: true,
  input: startInput,
  handle: async ({ input, services, req }) => {
    const jobs = jobsOf(services, req);
    if (input.id !== undefined) {
      const r = await jobs.resume(input.id);
      return { ...r.job, resumed: true, alreadyRunning: r.alreadyRunning };
    }
    const backoff = { attempts: input.retries, minDelayMs: input.retryDelayMs, maxDelayMs: Math.max(input.retryDelayMs, input.retryMaxDelayMs) };
    const r = await jobs.start({
      projectId: input.projectId ?? 0, to: input.to ?? '', keepTree: input.keepTree, restart: input.restart, concurrency: input.concurrency, backoff,
    });
    return { ...r.job, resumed: r.resumed, alreadyRunning: r.alreadyRunning };
  },
});

const status = defineMethod({
  name: 'migrations.status',
  verbs: ['GET', 'POST'],
  admin: true,
  input: z.object({ id }),
  handle: async ({ input, services, req }) => jobsOf(services, req).status(input.id),
});

const cancel = defineMethod({
  name: 'migrations.cancel',
  admin: true,
  input: z.object({ id }),
  handle: async ({ input, services, req }) => {
    const job = await jobsOf(services, req).cancel(input.id);
    if (job.status === 'done') throw new AppError('InvalidInput', `migration ${input.id} is already done`, { field: 'id' });
    return job;
  },
});

const list = defineMethod({
  name: 'migrations.list',
  verbs: ['GET', 'POST'],
  admin: true,
  input: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
  handle: async ({ input, services, req }) => jobsOf(services, req).list(input.limit),
});

/** The migration job methods. */
export const migrationMethods: ApiMethod[] = [start, status, cancel, list];
