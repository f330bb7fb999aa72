/**
 * Planner statistics for PostgreSQL servers that run without autovacuum.
 *
 * With autovacuum off, a table filled after its creation is never analyzed:
 * the planner then guesses a handful of rows per dataset and picks a bitmap
 * scan plus a sort of all of a dataset's rows for every page (hundreds of ms
 * at 1M items) instead of walking the (dataset_id, id) index. So when
 * autovacuum is off, the catalog vacuums and analyzes an item table itself
 * once enough rows changed since the last time, in the background. VACUUM
 * also sets the visibility map that index-only scans need.
 */
import { sql, type Kysely } from 'kysely';
import type { CatalogDb } from './db-schema.ts';

/** Changed rows that always warrant a run. */
const MIN_CHANGED_ROWS = 5_000;
/** ...or this fraction of the rows the table had at its last run, if more. */
const CHANGED_FRACTION = 0.2;

/** Schedules VACUUM (ANALYZE) of item tables as they change. */
export class PgMaintenance {
  readonly #db: Kysely<CatalogDb>;
  readonly #log: ((obj: object, msg?: string) => void) | undefined;
  readonly #changed = new Map<string, number>();
  readonly #rowsAtLastRun = new Map<string, number>();
  #running: Promise<void> | undefined;

  private constructor(db: Kysely<CatalogDb>, log: ((obj: object, msg?: string) => void) | undefined) {
    this.#db = db;
    this.#log = log;
  }

  /** A maintainer when the server's autovacuum is off, else undefined (the server does it). */
  static async create(db: Kysely<CatalogDb>, log?: (obj: object, msg?: string) => void): Promise<PgMaintenance | undefined> {
    const { rows } = await sql<{ on: string }>`select current_setting('autovacuum') as on`.execute(db);
    return rows[0]?.on === 'on' ? undefined : new PgMaintenance(db, log);
  }

  /** Records committed inserts/deletes of `rows` rows in `table`; may start a run. */
  noteWrites(table: 'images' | 'videos', rows: number): void {
    const changed = (this.#changed.get(table) ?? 0) + rows;
    this.#changed.set(table, changed);
    const threshold = Math.max(MIN_CHANGED_ROWS, CHANGED_FRACTION * (this.#rowsAtLastRun.get(table) ?? 0));
    if (changed >= threshold && !this.#running) {
      this.#running = this.#run(table).finally(() => {
        this.#running = undefined;
      });
    }
  }

  /** Waits for a run in progress (call before closing the pool). */
  async idle(): Promise<void> {
    await this.#running;
  }

  async #run(table: 'images' | 'videos'): Promise<void> {
    this.#changed.set(table, 0);
    const started = performance.now();
    try {
      await sql`vacuum (analyze) ${sql.table(table)}`.execute(this.#db);
      const { rows } = await sql<{ n: number }>`select reltuples as n from pg_class where oid = ${table}::regclass`.execute(this.#db);
      this.#rowsAtLastRun.set(table, Math.max(0, Number(rows[0]?.n ?? 0)));
      this.#log?.({ table, ms: Math.round(performance.now() - started) }, 'catalog: vacuum analyze done');
    } catch (err) {
      this.#log?.({ table, err }, 'catalog: vacuum analyze failed');
    }
  }
}
