/**
 * Migrations as API jobs (admin key only), so a web page or a script can run
 * and watch what `stowage migrate project|storage` do. The jobs are run by
 * the instance's job runner (`services.jobs`): claimed by one instance,
 * heartbeating, taken over by another instance when theirs dies.
 *
 * - `migrations.start {projectId, to, keepTree?, concurrency?, restart?}`
 *   (kind `project`, the default) checks the project and the target (bucket
 *   allowed by a connection, writable) and starts the job in the background,
 *   or resumes the unfinished job of the same project and target.
 * - `migrations.start {kind: 'storage', to: <connection>, bucketPrefix?,
 *   include?, exclude?, concurrency?, sizeOnly?}` copies both primary buckets
 *   to `<prefix>-public|-private` of the connection's store (resuming = running
 *   again: what is there already is skipped).
 * - `migrations.start {id}` resumes a job.
 * - `migrations.status {id}`: the job with its counters (live while it runs here).
 * - `migrations.cancel {id}`: stops it; it resumes from its last checkpoint when started again.
 * - `migrations.list`: the newest jobs.
 *
 * Every job has `kind` (`project`, `storage`, `links-import`), `status`,
 * `counters` ({done, total, bytes, bytesTotal, failed}; null when not known),
 * the kind's own `progress`, and a `message`.
 */
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { DEFAULT_BACKOFF } from '../../migrate/backoff.ts';
import { defineMethod, type ApiMethod } from '../api-method.ts';
import { id, wireBool } from '../wire-types.ts';

/** Key prefixes: a list, or one prefix. */
const prefixes = z.union([z.array(z.string().max(1024)).max(100), z.string().max(1024).transform((p) => [p])]).default([]);

const startInput = z.object({
  kind: z.enum(['project', 'storage'], { message: 'expected project or storage' }).default('project'),
  id: id.optional(),
  projectId: id.optional(),
  to: z.string().min(1).max(2048).optional(),
  keepTree: wireBool.default(false),
  restart: wireBool.default(false),
  bucketPrefix: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,50}$/, 'expected 1-51 lowercase letters, digits, "." or "-"').optional(),
  include: prefixes,
  exclude: prefixes,
  sizeOnly: wireBool.default(false),
  concurrency: z.coerce.number().int().min(1).max(100).default(10),
  retries: z.coerce.number().int().min(1).max(100).default(DEFAULT_BACKOFF.attempts),
  retryDelayMs: z.coerce.number().int().min(0).max(600_000).default(DEFAULT_BACKOFF.minDelayMs),
  retryMaxDelayMs: z.coerce.number().int().min(0).max(3_600_000).default(DEFAULT_BACKOFF.maxDelayMs),
}).superRefine((v, ctx) => {
  if (v.id !== undefined) return;
  if (v.kind === 'storage') {
    if (v.to === undefined) ctx.addIssue({ code: 'custom', path: ['to'], message: 'expected the name of a connection to copy the storage to' });
    else if (v.to.length > 63) ctx.addIssue({ code: 'custom', path: ['to'], message: 'expected a connection name' });
  } else if (v.projectId === undefined || v.to === undefined) {
    ctx.addIssue({ code: 'custom', path: [v.projectId === undefined ? 'projectId' : 'to'], message: 'either id (to resume a job) or projectId and to are required' });
  }
});

const start = defineMethod({
  name: 'migrations.start',
  admin: true,
  input: startInput,
  handle: async ({ input: i, services }) => {
    const jobs = services.jobs;
    if (i.id !== undefined) {
      const r = await jobs.resume(i.id);
      return { ...r.job, resumed: true, alreadyRunning: r.alreadyRunning };
    }
    const backoff = { attempts: i.retries, minDelayMs: i.retryDelayMs, maxDelayMs: Math.max(i.retryDelayMs, i.retryMaxDelayMs) };
    const r = i.kind === 'storage'
      ? await jobs.startStorage({
          to: i.to ?? '', bucketPrefix: i.bucketPrefix, include: i.include, exclude: i.exclude, concurrency: i.concurrency, sizeOnly: i.sizeOnly, backoff,
        })
      : await jobs.startProject({
          projectId: i.projectId ?? 0, to: i.to ?? '', keepTree: i.keepTree, restart: i.restart, concurrency: i.concurrency, backoff,
        });
    return { ...r.job, resumed: r.resumed, alreadyRunning: r.alreadyRunning };
  },
});

const status = defineMethod({
  name: 'migrations.status',
  verbs: ['GET', 'POST'],
  admin: true,
  input: z.object({ id }),
  handle: async ({ input, services }) => services.jobs.jobs.status(input.id),
});

const cancel = defineMethod({
  name: 'migrations.cancel',
  admin: true,
  input: z.object({ id }),
  handle: async ({ input, services }) => {
    const job = await services.jobs.jobs.cancel(input.id);
    if (job.status === 'done') throw new AppError('InvalidInput', `migration ${input.id} is already done`, { field: 'id' });
    return job;
  },
});

const list = defineMethod({
  name: 'migrations.list',
  verbs: ['GET', 'POST'],
  admin: true,
  input: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
  handle: async ({ input, services }) => services.jobs.jobs.list(input.limit),
});

/** The migration job methods. */
export const migrationMethods: ApiMethod[] = [start, status, cancel, list];
