/**
 * A Kysely dialect over Node's built-in `node:sqlite` (`DatabaseSync`).
 *
 * Kysely's own `SqliteDialect` expects a better-sqlite3 object (`stmt.reader`,
 * native addon); this driver talks to `DatabaseSync` instead and reuses
 * Kysely's SQLite adapter, introspector and query compiler.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

/** How many prepared statements one connection keeps for reuse. */
const STATEMENT_CACHE_SIZE = 256;

/** Options of {@link NodeSqliteDialect}. */
export interface NodeSqliteDialectConfig {
  /** An open database; closed on destroy unless `onDestroy` is given. */
  database: DatabaseSync;
  /**
   * The lock serialising use of `database`. Pass the same one to every
   * dialect over one database, or their transactions would interleave.
   */
  mutex?: Mutex;
  /** Called on destroy instead of closing `database` (for shared databases). */
  onDestroy?: () => void;
}

/** Kysely dialect for `node:sqlite`. One connection, serialised by a mutex. */
export class NodeSqliteDialect implements Dialect {
  readonly #config: NodeSqliteDialectConfig;

  constructor(config: NodeSqliteDialectConfig) {
    this.#config = config;
  }

  createDriver(): Driver {
    return new NodeSqliteDriver(this.#config);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/** A FIFO lock: SQLite has one connection, so a transaction must own it until it ends. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Resolves with the release function once every earlier holder has released. */
  async lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.#tail;
    this.#tail = previous.then(() => next);
    await previous;
    return release;
  }
}

class NodeSqliteDriver implements Driver {
  readonly #config: NodeSqliteDialectConfig;
  readonly #connection: NodeSqliteConnection;
  readonly #mutex: Mutex;
  #release: (() => void) | undefined;

  constructor(config: NodeSqliteDialectConfig) {
    this.#config = config;
    this.#connection = new NodeSqliteConnection(config.database);
    this.#mutex = config.mutex ?? new Mutex();
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    this.#release = await this.#mutex.lock();
    return this.#connection;
  }

  async releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  // IMMEDIATE takes the write lock up front: a deferred transaction that reads
  // and then writes can fail with SQLITE_BUSY without waiting on busy_timeout
  // when another process holds the lock.
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteIdent(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to ${quoteIdent(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release ${quoteIdent(name)}`));
  }

  async destroy(): Promise<void> {
    if (this.#config.onDestroy) this.#config.onDestroy();
    else if (this.#config.database.isOpen) this.#config.database.close();
  }
}

class NodeSqliteConnection implements DatabaseConnection {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.#prepare(compiledQuery.sql);
    const params = toSqliteParams(compiledQuery.parameters);
    // A statement returns rows exactly when it has result columns
    // (SELECT, PRAGMA, INSERT ... RETURNING).
    if (stmt.columns().length > 0) {
      return { rows: stmt.all(...params) as R[] };
    }
    const { changes, lastInsertRowid } = stmt.run(...params);
    return {
      rows: [],
      numAffectedRows: BigInt(changes),
      insertId: BigInt(lastInsertRowid),
    };
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const stmt = this.#prepare(compiledQuery.sql);
    for (const row of stmt.iterate(...toSqliteParams(compiledQuery.parameters))) {
      yield { rows: [row as R] };
    }
  }

  #prepare(sqlText: string): StatementSync {
    const cached = this.#statements.get(sqlText);
    if (cached) {
      // Re-insert to keep the map in least-recently-used order.
      this.#statements.delete(sqlText);
      this.#statements.set(sqlText, cached);
      return cached;
    }
    const stmt = this.#db.prepare(sqlText);
    this.#statements.set(sqlText, stmt);
    if (this.#statements.size > STATEMENT_CACHE_SIZE) {
      const oldest = this.#statements.keys().next().value;
      if (oldest !== undefined) this.#statements.delete(oldest);
    }
    return stmt;
  }
}

/** node:sqlite binds only null, numbers, bigints, strings and bytes. */
function toSqliteParams(parameters: readonly unknown[]): SQLInputValue[] {
  return parameters.map((value) => {
    if (value === undefined || value === null) return null;
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string') return value;
    if (ArrayBuffer.isView(value)) return value as SQLInputValue;
    throw new TypeError(`node:sqlite cannot bind a value of type ${typeof value}`);
  });
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
