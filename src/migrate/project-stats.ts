/** Counters of a project migration (kept in its job), and the dataset tree `--keep-tree` needs. */
import type { Catalog } from '../catalog/types.ts';
import type { ProgressSnapshot } from './progress.ts';

/** Failures kept with their item in the progress; the rest are only counted. */
export const MAX_LISTED_ITEM_FAILURES = 1000;

/** One item that was not migrated, and why. */
export interface ItemFailure {
  id: number;
  name: string;
  error: string;
}

/** Where a project migration is (stored in the job as JSON). */
export interface ProjectProgress {
  /** Images or videos in the project. */
  itemsTotal: number;
  /** Items looked at. */
  scanned: number;
  /** Of those, not linked yet: the ones to migrate. */
  candidates: number;
  /** Sent to the target by this job. */
  uploaded: number;
  /** Found at the target already (same size, and MD5 where the store has one): not sent again. */
  alreadyRemote: number;
  /** Re-pointed at their remote link. */
  relinked: number;
  /** Removed or re-pointed by someone else during the run (left as they are). */
  changedMeanwhile: number;
  failed: number;
  retries: number;
  /** Bytes sent. */
  bytes: number;
  failures: ItemFailure[];
  failuresOmitted: number;
}

function emptyProgress(): ProjectProgress {
  return {
    itemsTotal: 0, scanned: 0, candidates: 0, uploaded: 0, alreadyRemote: 0, relinked: 0, changedMeanwhile: 0,
    failed: 0, retries: 0, bytes: 0, failures: [], failuresOmitted: 0,
  };
}

/** Reads progress stored by an earlier run, tolerating missing fields. */
export function progressFrom(stored: Record<string, unknown> | undefined): ProjectProgress {
  const p = emptyProgress();
  if (stored === undefined) return p;
  for (const k of Object.keys(p) as Array<keyof ProjectProgress>) {
    const v = stored[k];
    if (k === 'failures') p.failures = Array.isArray(v) ? (v as ItemFailure[]).slice(0, MAX_LISTED_ITEM_FAILURES) : [];
    else if (typeof v === 'number') p[k] = v;
  }
  return p;
}

/** Live counters of one run, starting from a resumed run's. */
export class ProjectRunStats implements Omit<ProjectProgress, 'failures' | 'failuresOmitted'> {
  itemsTotal: number;
  scanned: number;
  candidates: number;
  uploaded: number;
  alreadyRemote: number;
  relinked: number;
  changedMeanwhile: number;
  failed: number;
  retries: number;
  bytes: number;
  #sending = 0;
  readonly #failures: ItemFailure[];
  #omitted: number;

  constructor(from?: ProjectProgress) {
    const p = from ?? emptyProgress();
    this.itemsTotal = p.itemsTotal;
    this.scanned = p.scanned;
    this.candidates = p.candidates;
    this.uploaded = p.uploaded;
    this.alreadyRemote = p.alreadyRemote;
    this.relinked = p.relinked;
    this.changedMeanwhile = p.changedMeanwhile;
    this.failed = p.failed;
    this.retries = p.retries;
    this.bytes = p.bytes;
    this.#failures = [...p.failures];
    this.#omitted = p.failuresOmitted;
  }

  sending(delta: number): void {
    this.#sending += delta;
  }

  uploadedOne(bytes: number): void {
    this.#sending -= bytes;
    this.uploaded += 1;
    this.bytes += bytes;
  }

  fail(f: ItemFailure): void {
    this.failed += 1;
    if (this.#failures.length < MAX_LISTED_ITEM_FAILURES) this.#failures.push(f);
    else this.#omitted += 1;
  }

  progress(): ProjectProgress {
    return {
      itemsTotal: this.itemsTotal, scanned: this.scanned, candidates: this.candidates, uploaded: this.uploaded,
      alreadyRemote: this.alreadyRemote, relinked: this.relinked, changedMeanwhile: this.changedMeanwhile, failed: this.failed,
      retries: this.retries, bytes: this.bytes, failures: [...this.#failures], failuresOmitted: this.#omitted,
    };
  }

  snapshot(): ProgressSnapshot {
    return {
      phase: 'migrate', done: this.scanned, total: this.itemsTotal, bytes: this.bytes + Math.max(0, this.#sending), bytesTotal: undefined,
      counts: { uploaded: this.uploaded, alreadyRemote: this.alreadyRemote, relinked: this.relinked, failed: this.failed },
    };
  }
}

/** Names from the top dataset down to each dataset of a project, by dataset id. */
export async function datasetPaths(catalog: Catalog, projectId: number): Promise<Map<number, string[]>> {
  const nodes = new Map<number, { name: string; parentId: number | null }>();
  for (let afterId = 0; ;) {
    const { rows } = await catalog.datasets.list({ projectId, recursive: true, limit: 1000, afterId, sort: 'id', sortOrder: 'asc' });
    for (const d of rows) nodes.set(d.id, { name: d.name, parentId: d.parentId });
    const last = rows.at(-1);
    if (last === undefined || rows.length < 1000) break;
    afterId = last.id;
  }
  const paths = new Map<number, string[]>();
  const pathOf = (id: number, depth = 0): string[] => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const node = nodes.get(id);
    if (node === undefined || depth > 1000) return [];
    const path = [...(node.parentId === null ? [] : pathOf(node.parentId, depth + 1)), node.name];
    paths.set(id, path);
    return path;
  };
  for (const id of nodes.keys()) pathOf(id);
  return paths;
}
