/**
 * Tells every Stowage instance on one catalog that shared settings changed
 * (remote connections, API keys), within a second and without polling:
 * PostgreSQL `LISTEN/NOTIFY` on a channel per catalog schema, or an
 * in-process emitter for embedded SQLite (one process by construction).
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';

/** What changed; subscribers reload that part from the catalog (`jobs`: a job was released, take it over). */
export type ChangeTopic = 'connections' | 'api-keys' | 'jobs';

const TOPICS: readonly ChangeTopic[] = ['connections', 'api-keys', 'jobs'];

/** Publish/subscribe of {@link ChangeTopic}s across the instances of one catalog. */
export interface ChangeFeed {
  /** Tells every instance (this one included) that `topic` changed. */
  publish(topic: ChangeTopic): Promise<void>;
  /** Calls `fn` on each change of `topic` (also after a lost connection, when changes may have been missed); returns the unsubscribe. */
  subscribe(topic: ChangeTopic, fn: () => void): () => void;
  close(): Promise<void>;
}

/** Where log lines go (a pino logger fits). */
export interface FeedLogger {
  warn(obj: object, msg?: string): void;
}

/** The feed of an embedded catalog: only this process can change it. */
export function localChangeFeed(): ChangeFeed {
  const events = new EventEmitter();
  return {
    publish: async (topic) => { events.emit(topic); },
    subscribe: (topic, fn) => {
      events.on(topic, fn);
      return () => events.off(topic, fn);
    },
    close: async () => { events.removeAllListeners(); },
  };
}

/** Options of {@link pgChangeFeed}. */
export interface PgFeedOptions {
  connectionString: string;
  /** Catalog schema (test runs use one each): part of the channel name, so catalogs never hear each other. */
  schema?: string | undefined;
  logger?: FeedLogger | undefined;
  /** First reconnect delay after a lost connection; doubles up to 30 s. Default 500 ms. */
  retryMs?: number | undefined;
}

/** The NOTIFY channel of a catalog schema. */
export function channelName(schema: string | undefined): string {
  return `stowage_changes_${schema ?? 'public'}`;
}

/**
 * The feed of a PostgreSQL catalog: one dedicated connection LISTENs (a
 * pooled one could be handed to someone else); publishing uses a short-lived
 * `pg_notify`. A lost listener reconnects with backoff and then reports every
 * topic as changed, since notifications sent meanwhile are gone.
 */
export async function pgChangeFeed(o: PgFeedOptions): Promise<ChangeFeed> {
  const events = new EventEmitter();
  const channel = channelName(o.schema);
  const listener = new PgListener(o, channel, (topic) => events.emit(topic));
  await listener.connect();
  const publisher = new pg.Pool({ connectionString: o.connectionString, max: 1, idleTimeoutMillis: 10_000 });
  publisher.on('error', (err) => o.logger?.warn({ err: String(err) }, 'change feed: idle publisher connection failed'));
  return {
    publish: async (topic) => { await publisher.query('SELECT pg_notify($1, $2)', [channel, topic]); },
    subscribe: (topic, fn) => {
      events.on(topic, fn);
      return () => events.off(topic, fn);
    },
    close: async () => {
      events.removeAllListeners();
      await listener.close();
      await publisher.end();
    },
  };
}

/** The LISTEN connection, kept alive across server restarts. */
class PgListener {
  readonly #o: PgFeedOptions;
  readonly #channel: string;
  readonly #emit: (topic: ChangeTopic) => void;
  #client: pg.Client | undefined;
  #closed = false;
  #delay: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(o: PgFeedOptions, channel: string, emit: (topic: ChangeTopic) => void) {
    this.#o = o;
    this.#channel = channel;
    this.#emit = emit;
    this.#delay = o.retryMs ?? 500;
  }

  async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#o.connectionString });
    client.on('notification', (n) => {
      if (n.channel === this.#channel && TOPICS.includes(n.payload as ChangeTopic)) this.#emit(n.payload as ChangeTopic);
    });
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    await client.connect();
    // The channel name is ours (schema names are checked by the catalog URL parser), so quoting suffices.
    await client.query(`LISTEN "${this.#channel}"`);
    this.#client = client;
    this.#delay = this.#o.retryMs ?? 500;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => undefined);
    this.#o.logger?.warn({ err: String(err), retryInMs: this.#delay }, 'change feed: lost the PostgreSQL listener; reconnecting');
    this.#retry();
  }

  #retry(): void {
    this.#timer = setTimeout(() => {
      this.connect().then(
        () => { for (const t of TOPICS) this.#emit(t); },
        (err: unknown) => {
          if (this.#closed) return;
          this.#o.logger?.warn({ err: String(err), retryInMs: this.#delay }, 'change feed: reconnect failed');
          this.#delay = Math.min(this.#delay * 2, 30_000);
          this.#retry();
        },
      );
    }, this.#delay);
    this.#timer.unref();
  }
}

/**
 * Announces one change from a short-lived process (the CLI) to the instances
 * serving the catalog at `url`: a single NOTIFY on PostgreSQL; nothing for
 * SQLite, whose one server notices within its cache lifetime.
 */
export async function announceChange(url: string, topic: ChangeTopic): Promise<void> {
  const target = pgTarget(url);
  if (target === undefined) return;
  const client = new pg.Client({ connectionString: target.connectionString });
  await client.connect();
  try {
    await client.query('SELECT pg_notify($1, $2)', [channelName(target.schema), topic]);
  } finally {
    await client.end();
  }
}

/** The feed for the catalog at `url` (a PostgreSQL or SQLite catalog URL). */
export async function openChangeFeed(url: string, logger?: FeedLogger): Promise<ChangeFeed> {
  const target = pgTarget(url);
  return target === undefined ? localChangeFeed() : pgChangeFeed({ ...target, logger });
}

/** Connection string and schema of a PostgreSQL catalog URL; undefined for SQLite. */
export function pgTarget(url: string): { connectionString: string; schema: string | undefined } | undefined {
  if (!url.startsWith('postgres://') && !url.startsWith('postgresql://')) return undefined;
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}
