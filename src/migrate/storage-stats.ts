/** Counters of a storage migration, its progress snapshots and its final report. */
import type { ProgressSnapshot } from './progress.ts';

/** Failures kept with their key in a report; the rest are only counted. */
export const MAX_LISTED_FAILURES = 1000;

/** One object that could not be copied or verified. */
export interface ObjectFailure {
  bucket: string;
  key: string;
  error: string;
}

/** What a storage migration did (or, dry, would do). */
export interface StorageMigrationReport {
  dryRun: boolean;
  /** Objects and bytes of the source (within the filters). */
  objects: number;
  bytes: number;
  /** Already in the target with the same size (and checksum where compared): skipped. */
  present: number;
  presentBytes: number;
  /** In the target under the same key with another size or checksum (copied over unless dry). */
  conflicts: number;
  /** Copied and verified (dry run: would be copied). */
  copied: number;
  copiedBytes: number;
  /** How the copies were verified: by the store's MD5 checksum, or by size only. */
  verifiedMd5: number;
  verifiedSize: number;
  /** Transient failures retried. */
  retries: number;
  failed: number;
  failures: ObjectFailure[];
  /** Failures beyond {@link MAX_LISTED_FAILURES}, counted only. */
  failuresOmitted: number;
  elapsedSeconds: number;
}

/** Live counters; the pool's workers bump them, the progress output reads them. */
export class StorageRunStats {
  readonly #dry: boolean;
  readonly #startedAt = performance.now();
  #counted = { objects: 0, bytes: 0, complete: false };
  #handled = 0;
  #present = { n: 0, bytes: 0 };
  #copied = { n: 0, bytes: 0, md5: 0, size: 0 };
  #conflicts = 0;
  #retries = 0;
  #failed = { n: 0, bytes: 0 };
  /** Bytes of copies in progress (taken back when an attempt fails). */
  #sending = 0;
  readonly #failures: ObjectFailure[] = [];

  constructor(dryRun: boolean) {
    this.#dry = dryRun;
  }

  counted(bytes: number): void {
    this.#counted.objects += 1;
    this.#counted.bytes += bytes;
  }

  countingDone(): void {
    this.#counted.complete = true;
  }

  present(bytes: number): void {
    this.#handled += 1;
    this.#present.n += 1;
    this.#present.bytes += bytes;
  }

  conflict(): void {
    this.#conflicts += 1;
  }

  wouldCopy(bytes: number): void {
    this.#handled += 1;
    this.#copied.n += 1;
    this.#copied.bytes += bytes;
  }

  sending(delta: number): void {
    this.#sending += delta;
  }

  copied(bytes: number, verified: 'md5' | 'size'): void {
    this.#handled += 1;
    this.#sending -= bytes;
    this.#copied.n += 1;
    this.#copied.bytes += bytes;
    this.#copied[verified] += 1;
  }

  retried(): void {
    this.#retries += 1;
  }

  failed(f: ObjectFailure, bytes: number): void {
    this.#handled += 1;
    this.#failed.n += 1;
    this.#failed.bytes += bytes;
    if (this.#failures.length < MAX_LISTED_FAILURES) this.#failures.push(f);
  }

  snapshot(): ProgressSnapshot {
    const counts: Record<string, number> = this.#dry
      ? { toCopy: this.#copied.n, present: this.#present.n, conflicts: this.#conflicts }
      : { copied: this.#copied.n, present: this.#present.n, conflicts: this.#conflicts, failed: this.#failed.n, retries: this.#retries };
    return {
      phase: this.#dry ? 'dry-run' : 'copy',
      done: this.#handled,
      total: this.#counted.complete ? this.#counted.objects : undefined,
      bytes: this.#present.bytes + this.#copied.bytes + this.#failed.bytes + Math.max(0, this.#sending),
      bytesTotal: this.#counted.complete ? this.#counted.bytes : undefined,
      counts,
    };
  }

  report(): StorageMigrationReport {
    return {
      dryRun: this.#dry,
      objects: this.#handled,
      bytes: this.#present.bytes + this.#copied.bytes + this.#failed.bytes,
      present: this.#present.n,
      presentBytes: this.#present.bytes,
      conflicts: this.#conflicts,
      copied: this.#copied.n,
      copiedBytes: this.#copied.bytes,
      verifiedMd5: this.#copied.md5,
      verifiedSize: this.#copied.size,
      retries: this.#retries,
      failed: this.#failed.n,
      failures: [...this.#failures],
      failuresOmitted: this.#failed.n - this.#failures.length,
      elapsedSeconds: Math.round((performance.now() - this.#startedAt) / 100) / 10,
    };
  }
}
