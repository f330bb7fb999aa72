/**
 * Link-list imports as background jobs (`images.links.import` with
 * `background=true`): the uploaded list is kept in the private bucket, a job
 * is created and the reply goes out at once; the job imports the list with
 * the line number as its checkpoint (saved after each batch of 1,000 lines),
 * so a stopped or crashed import is resumed, here or by another instance,
 * after the last line handled. Re-importing a line is harmless anyway (same
 * name and link: skipped). The stored list is deleted once the job is done.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Catalog, JsonObject, MigrationJob } from '../catalog/types.ts';
import type { ItemKind, ItemService } from '../services/items.ts';
import { LinkImporter, readLines, type ImportCounts, type ImportError, type ImportProgress, type ImportReport } from '../services/link-import.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { JobLauncher, JobView } from './job-types.ts';
import type { MigrationJobs } from './migration-jobs.ts';

/** Where uploaded lists wait in the private bucket. */
export const LIST_PREFIX = 'jobs/links-import/';
/** Errors kept in a job's stored progress (the rest are counted): it is rewritten at every checkpoint. */
const STORED_ERRORS = 1000;

/** What a link-import job needs. */
export interface LinkImportJobDeps {
  catalog: Catalog;
  items: ItemService;
  /** Where the lists are kept: the primary store's private bucket. */
  store: ObjectStore;
  bucket: string;
}

/** The options a link-import job keeps. */
interface ImportJobOptions {
  itemKind: ItemKind;
  forceMetadataForLinks: boolean;
  /** Bytes of the stored list. */
  size: number;
}

/** A background import to start. */
export interface LinkImportStart {
  kind: ItemKind;
  datasetId: number;
  /** The list, as uploaded. */
  body: Readable;
  forceMetadataForLinks: boolean;
}

/** Checks the dataset, stores the list and creates and runs the job here; replies with the job. */
export async function startLinkImportJob(jobs: MigrationJobs, deps: LinkImportJobDeps, req: LinkImportStart): Promise<JobView> {
  await deps.items.datasetFor(req.kind, req.datasetId);
  const key = `${LIST_PREFIX}${randomUUID()}.txt`;
  const stored = await deps.store.put(deps.bucket, key, req.body, { contentType: 'text/plain; charset=utf-8' });
  const options: ImportJobOptions = { itemKind: req.kind, forceMetadataForLinks: req.forceMetadataForLinks, size: stored.size };
  try {
    return await jobs.create({ kind: 'links-import', projectId: req.datasetId, target: key, options: { ...options } }, linkImportLauncher(deps));
  } catch (err) {
    await deps.store.delete(deps.bucket, key).catch(() => undefined);
    throw err;
  }
}

/** A report (or an earlier run's stored progress) as a job stores it. */
function toProgress(r: ImportReport, line: number, bytes: number, size: number): JsonObject {
  const failed = r.errors.length + (r.errorsOmitted ?? 0);
  const errors = r.errors.slice(0, STORED_ERRORS);
  return { lines: line, bytes, size, imported: r.imported, skipped: r.skipped, failed, errors, errorsOmitted: failed - errors.length };
}

function countsFrom(p: JsonObject): ImportCounts {
  const n = (k: string) => (typeof p[k] === 'number' ? p[k] : 0);
  return { imported: n('imported'), skipped: n('skipped'), failed: n('failed'), errors: Array.isArray(p['errors']) ? (p['errors'] as ImportError[]) : [] };
}

/** Runs a link-import job after its last checkpoint line; deletes the stored list once done. */
export function linkImportLauncher(deps: LinkImportJobDeps): JobLauncher {
  return async ({ job, signal, checkpoint }) => {
    const o = job.options as Partial<ImportJobOptions>;
    const size = o.size ?? 0;
    const { body } = await deps.store.get(deps.bucket, job.target);
    let live: JsonObject = { ...job.progress, size };
    let now: ImportProgress = { lines: job.cursor, bytes: 0, imported: 0, skipped: 0, failed: 0 };
    const run = new LinkImporter(deps.catalog, deps.items).run(o.itemKind ?? 'image', job.projectId, readLines(body), {
      forceMetadataForLinks: o.forceMetadataForLinks !== false, afterLine: job.cursor, from: countsFrom(job.progress), signal,
      onProgress: (p) => { now = p; },
      onCheckpoint: async (line, report) => {
        live = toProgress(report, line, now.bytes, size);
        await checkpoint(line, live);
      },
    });
    const done = run.then(async (report) => {
      await deps.store.delete(deps.bucket, job.target).catch(() => undefined);
      return toProgress(report, now.lines, now.bytes, size);
    }).finally(() => body.destroy());
    return {
      progress: () => ({ ...live, lines: now.lines, bytes: now.bytes, imported: now.imported, skipped: now.skipped, failed: now.failed }),
      snapshot: () => ({ phase: 'import', done: now.lines, total: undefined, bytes: now.bytes, bytesTotal: size, counts: { imported: now.imported, failed: now.failed } }),
      // The stored progress goes with the checkpoint line: a heartbeat only beats.
      beat: () => ({}),
      done,
    };
  };
}

/** Whether a job is a link import into a dataset of `kind` (for the items' status method). */
export function isLinkImportOf(job: Pick<MigrationJob, 'kind' | 'options'>, kind: ItemKind): boolean {
  return job.kind === 'links-import' && (job.options['itemKind'] ?? 'image') === kind;
}
