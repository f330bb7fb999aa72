/**
 * Deep OFFSET pages without walking the index from the start.
 *
 * `ORDER BY id LIMIT 1000 OFFSET 500000` makes either engine step over half a
 * million index entries (~100+ ms on PostgreSQL even as an index-only scan).
 * This cache remembers, per listing scope (one dataset or one project) and
 * unique sort key (id, or name within a dataset), the key found at every
 * `step`-th position. A page then seeks to the nearest checkpoint
 * (`key >= checkpoint`) and skips fewer than `step` rows.
 *
 * Checkpoints are tied to the scope's `item_revision`, which every item add
 * or remove bumps in its own transaction, so a cache entry is never used
 * after the scope's set of ids changed (in any process).
 */

/** A sort key value: an id or a name. */
export type SortKey = number | string;

/** A known position: the sort key of the row at `position` (0-based, in key order). */
export interface Checkpoint {
  position: number;
  key: SortKey;
}

/**
 * Finds the key `skip` rows after the row with key `from` in the scope
 * (`from` null: the first row), or undefined past the end.
 */
export type SeekFn = (from: SortKey | null, skip: number) => Promise<SortKey | undefined>;

interface Entry {
  revision: number;
  /** keys[k] is the key at position k * step. */
  keys: SortKey[];
  /** True once a seek ran past the last row. */
  complete: boolean;
  /** Serialises extensions of this entry. */
  busy: Promise<unknown>;
}

/** Per-scope checkpoint lists, least recently used evicted first. */
export class OffsetCheckpoints {
  readonly step: number;
  readonly #maxScopes: number;
  readonly #entries = new Map<string, Entry>();

  constructor(step = 5_000, maxScopes = 256) {
    this.step = step;
    this.#maxScopes = maxScopes;
  }

  /**
   * The checkpoint at or before `position`, extending the scope's list as far
   * as needed; undefined when the scope has no row at that checkpoint.
   */
  async before(scope: string, revision: number, position: number, seek: SeekFn): Promise<Checkpoint | undefined> {
    const entry = this.#entry(scope, revision);
    const wanted = Math.floor(position / this.step);
    const run = entry.busy.then(() => this.#extend(entry, wanted, seek));
    entry.busy = run.catch(() => undefined);
    await run;
    const key = entry.keys[wanted];
    return key === undefined ? undefined : { position: wanted * this.step, key };
  }

  #entry(scope: string, revision: number): Entry {
    let entry = this.#entries.get(scope);
    this.#entries.delete(scope);
    if (entry?.revision !== revision) {
      entry = { revision, keys: [], complete: false, busy: Promise.resolve() };
    }
    this.#entries.set(scope, entry);
    if (this.#entries.size > this.#maxScopes) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return entry;
  }

  async #extend(entry: Entry, wanted: number, seek: SeekFn): Promise<void> {
    while (entry.keys.length <= wanted && !entry.complete) {
      const last = entry.keys.at(-1);
      const next = last === undefined ? await seek(null, 0) : await seek(last, this.step);
      if (next === undefined) entry.complete = true;
      else entry.keys.push(next);
    }
  }
}
