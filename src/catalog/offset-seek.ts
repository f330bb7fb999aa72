/**
 * Deep OFFSET pages without walking the index from the start.
 *
 * `ORDER BY id LIMIT 1000 OFFSET 500000` makes either engine step over half a
 * million index entries (~100+ ms on PostgreSQL even as an index-only scan).
 * This cache remembers, per listing scope (one dataset or one project), the id
 * found at every `step`-th position in id order. A page then seeks to the
 * nearest checkpoint (`id >= checkpoint`) and skips fewer than `step` rows.
 *
 * Checkpoints are tied to the scope's `item_revision`, which every item add
 * or remove bumps in its own transaction, so a cache entry is never used
 * after the scope's set of ids changed (in any process).
 */

/** A known position: the id of the row at `position` (0-based, id order). */
export interface Checkpoint {
  position: number;
  id: number;
}

/**
 * Finds the id `skip` rows after `fromId` in the scope (`fromId` null: the
 * first row), or undefined past the end.
 */
export type SeekFn = (fromId: number | null, skip: number) => Promise<number | undefined>;

interface Entry {
  revision: number;
  /** ids[k] is the id at position k * step. */
  ids: number[];
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
    const id = entry.ids[wanted];
    return id === undefined ? undefined : { position: wanted * this.step, id };
  }

  #entry(scope: string, revision: number): Entry {
    let entry = this.#entries.get(scope);
    this.#entries.delete(scope);
    if (entry?.revision !== revision) {
      entry = { revision, ids: [], complete: false, busy: Promise.resolve() };
    }
    this.#entries.set(scope, entry);
    if (this.#entries.size > this.#maxScopes) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return entry;
  }

  async #extend(entry: Entry, wanted: number, seek: SeekFn): Promise<void> {
    while (entry.ids.length <= wanted && !entry.complete) {
      const last = entry.ids.at(-1);
      const next = last === undefined ? await seek(null, 0) : await seek(last, this.step);
      if (next === undefined) entry.complete = true;
      else entry.ids.push(next);
    }
  }
}
