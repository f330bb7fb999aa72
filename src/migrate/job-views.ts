/** How a job is shown: the counters every kind has, and a sentence for people. */
import type { JsonObject, MigrationJob } from '../catalog/types.ts';
import { formatBytes } from '../config/units.ts';
import type { JobCounters, JobView } from './job-types.ts';
import { progressFrom } from './project-stats.ts';

const num = (p: JsonObject, k: string): number => (typeof p[k] === 'number' ? p[k] : 0);
const numOrNull = (p: JsonObject, k: string): number | null => (typeof p[k] === 'number' ? p[k] : null);

/** The common counters of a job, from its (stored or live) progress. */
export function countersOf(job: Pick<MigrationJob, 'kind' | 'progress'>): JobCounters {
  const p = job.progress;
  switch (job.kind) {
    case 'project': {
      const q = progressFrom(p);
      return { done: q.scanned, total: q.itemsTotal, bytes: q.bytes, bytesTotal: null, failed: q.failed };
    }
    case 'storage':
      return { done: num(p, 'objects'), total: numOrNull(p, 'objectsTotal'), bytes: num(p, 'bytes'), bytesTotal: numOrNull(p, 'bytesTotal'), failed: num(p, 'failed') };
    case 'links-import':
      return { done: num(p, 'lines'), total: null, bytes: num(p, 'bytes'), bytesTotal: numOrNull(p, 'size'), failed: num(p, 'failed') };
  }
}

/** What happened to a job, in a sentence. */
export function describeJob(job: MigrationJob, status: JobView['status']): string {
  const c = countersOf(job);
  switch (status) {
    case 'done':
      return doneMessage(job);
    case 'running':
      return runningMessage(job);
    case 'interrupted':
      return `interrupted (its instance stopped) after ${c.done} ${unit(job)}: another instance takes it over, or start it again to resume`;
    case 'cancelled':
      return `cancelled after ${c.done} ${unit(job)}: start it again to resume`;
    case 'failed':
      return `failed: ${job.error ?? 'unknown error'}; start it again to resume`;
  }
}

function unit(job: Pick<MigrationJob, 'kind'>): string {
  return job.kind === 'project' ? 'item(s)' : job.kind === 'storage' ? 'object(s)' : 'line(s)';
}

function doneMessage(job: MigrationJob): string {
  const p = job.progress;
  switch (job.kind) {
    case 'project': {
      const q = progressFrom(p);
      if (q.candidates === 0) return `nothing to migrate: every item of project ${job.projectId} is already linked`;
      return `migrated ${q.relinked} of ${q.candidates} item(s) of project ${job.projectId} to ${job.target} (${q.alreadyRemote} were there already); ${q.failed} failed`;
    }
    case 'storage':
      return `copied ${num(p, 'copied')} object(s) (${formatBytes(num(p, 'copiedBytes'))}) to connection ${job.target}; ` +
        `${num(p, 'present')} were there already; ${num(p, 'failed')} failed`;
    case 'links-import':
      return `imported ${num(p, 'imported')} link(s) into dataset ${job.projectId}; ${num(p, 'skipped')} skipped; ${num(p, 'failed')} failed`;
  }
}

function runningMessage(job: MigrationJob): string {
  const c = countersOf(job);
  const p = job.progress;
  switch (job.kind) {
    case 'project': {
      const q = progressFrom(p);
      return `migrating project ${job.projectId} to ${job.target}: ${q.scanned} of ${q.itemsTotal} item(s) looked at, ${q.relinked} re-pointed, ${q.failed} failed`;
    }
    case 'storage':
      return `copying to connection ${job.target}: ${c.done}${c.total === null ? '' : ` of ${c.total}`} object(s), ${formatBytes(c.bytes)}, ${c.failed} failed`;
    case 'links-import':
      return `importing links into dataset ${job.projectId}: ${c.done} line(s) read, ${num(p, 'imported')} imported, ${c.failed} failed`;
  }
}
