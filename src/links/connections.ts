/**
 * The remote connections Stowage serves links through: those of
 * `remote_links.yml` (REMOTE_LINKS_PATH) and those added through the API
 * (kept in the catalog). The manager keeps the {@link LinkRegistry} in step
 * with both: it loads the file at start (a broken file stops the start),
 * watches it and reloads on change (a broken edit keeps the last good
 * configuration and logs why), builds one store per connection and closes
 * the stores of removed or changed connections.
 *
 * A name in both the file and the catalog: the file wins (see
 * `connection-plan.ts`); the API refuses to create such a clash.
 * API changes apply to this instance at once; other instances sharing a
 * PostgreSQL catalog see them at their next start.
 */
import { EventEmitter } from 'node:events';
import type { ChangeFeed } from '../catalog/change-feed.ts';
import type { Catalog } from '../catalog/types.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { planConnections, type ConnectionSource, type PlannedConnection } from './connection-plan.ts';
import type { ConnectionSettings } from './connection-schema.ts';
import { ConnectionSetupError, defaultStoreFactory, type StoreFactory } from './connection-stores.ts';
import { ConnectionApi, type ApiConnection } from './connection-api.ts';
import { FileWatcher } from './file-watch.ts';
import type { LinkRegistry } from './registry.ts';
import { readRemoteLinks, RemoteLinksError, type FileConnection } from './remote-links-file.ts';

/** Where the manager logs (pino fits). Settings are never logged, only names and errors. */
export interface ConnectionLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Options of {@link ConnectionManager}. */
export interface ConnectionManagerOptions {
  /** The remote_links.yml path (`Config.remoteLinksPath`). */
  path: string;
  registry: LinkRegistry;
  catalog: Pick<Catalog, 'connections'>;
  log: ConnectionLog;
  /** Builds a connection's store; default: the provider factories with retries. */
  buildStore?: StoreFactory | undefined;
  /** Watch the file and reload on change; default true. */
  watch?: boolean | undefined;
  /** Quiet time after a change before reloading; default 200 ms. */
  debounceMs?: number | undefined;
  /** `stat` poll backing up `fs.watch`; default 2000 ms, 0 = off. */
  pollIntervalMs?: number | undefined;
  /** A replaced store is closed this long later, so requests using it can finish; default 30 s. */
  closeGraceMs?: number | undefined;
  /** Tells the other instances of the catalog about API changes, and this one about theirs. */
  changes?: ChangeFeed | undefined;
}

/** A connection as the manager knows it (settings unmasked: mask before replying). */
export interface ConnectionView {
  name: string;
  source: ConnectionSource;
  /** Serving links now. */
  active: boolean;
  /** Why it is not serving (shadowed by the file, store not buildable, stored settings invalid). */
  problem: string | null;
  settings: ConnectionSettings | null;
  createdAt: string | null;
  updatedAt: string | null;
}

/** What one reload did; also emitted as the `reload` event. */
export interface ReloadResult {
  ok: boolean;
  /** Line-numbered problems of a rejected file. */
  errors: string[];
}

interface Live {
  source: ConnectionSource;
  fingerprint: string;
  settings: ConnectionSettings;
  store: ObjectStore;
}

/** Keeps the link registry in step with remote_links.yml and the API's connections. */
export class ConnectionManager extends EventEmitter {
  readonly path: string;
  readonly #o: ConnectionManagerOptions;
  readonly #build: StoreFactory;
  readonly #api: ConnectionApi;
  #file: FileConnection[] = [];
  /** Text of the file last read (undefined: missing): an unchanged file is not applied again. */
  #seen: string | undefined;
  #live = new Map<string, Live>();
  #problems = new Map<string, string>();
  #queue: Promise<unknown> = Promise.resolve();
  #watcher: FileWatcher | undefined;
  readonly #retiring = new Map<ObjectStore, NodeJS.Timeout>();
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(options: ConnectionManagerOptions) {
    super();
    this.path = options.path;
    this.#o = options;
    this.#build = options.buildStore ?? defaultStoreFactory();
    this.#api = new ConnectionApi({
      catalog: options.catalog,
      build: this.#build,
      fileConnections: () => this.#file,
      sync: (prebuilt) => this.#syncOrThrow(prebuilt),
    });
  }

  /**
   * Loads the file and the catalog's connections and starts watching.
   * Throws {@link RemoteLinksError} (every problem with its line) when the
   * file is broken; a missing file means no file connections.
   */
  async start(): Promise<void> {
    await this.#serial(async () => {
      const file = await readRemoteLinks(this.path);
      if (file.errors.length > 0) throw new RemoteLinksError(this.path, file.errors);
      for (const warning of await this.#api.load()) this.#o.log.warn(warning, 'remote connection from the catalog not served');
      const errors = await this.#sync(file.connections);
      if (errors.length > 0) throw new RemoteLinksError(this.path, errors);
      this.#file = file.connections;
      this.#seen = file.text;
    });
    this.#o.log.info({ file: this.path, connections: this.list().map((c) => `${c.name} (${c.source})`) }, 'remote connections ready');
    this.#unsubscribe = this.#o.changes?.subscribe('connections', () => void this.refreshFromCatalog());
    if (this.#o.watch === false) return;
    this.#watcher = new FileWatcher(this.path, {
      onChange: async () => void (await this.reload()),
      debounceMs: this.#o.debounceMs,
      pollIntervalMs: this.#o.pollIntervalMs,
    });
    await this.#watcher.start();
  }

  /**
   * Re-reads the file and applies it if it changed and is valid; otherwise
   * keeps the last good configuration and logs the problems. Emits `reload`
   * with the result whenever the file's text differs from the last one read.
   */
  reload(): Promise<ReloadResult> {
    return this.#serial(async () => {
      const file = await readRemoteLinks(this.path);
      if (this.#closed || (file.errors.length === 0 && file.text === this.#seen)) return { ok: true, errors: [] };
      this.#seen = file.text;
      const errors = file.errors.length > 0 ? file.errors : await this.#sync(file.connections);
      if (errors.length > 0) {
        this.#o.log.warn({ file: this.path, errors }, 'remote_links.yml not applied, keeping the last good configuration');
      } else {
        this.#file = file.connections;
        this.#o.log.info({ file: this.path, connections: file.connections.map((c) => c.name) }, 'remote_links.yml reloaded');
      }
      const result = { ok: errors.length === 0, errors };
      this.emit('reload', result);
      return result;
    });
  }

  /** Every connection, file ones first, then the API's by name. */
  list(): ConnectionView[] {
    const views: ConnectionView[] = this.#file.map((c) => ({
      name: c.name, source: 'file', active: this.#live.get(c.name)?.source === 'file', problem: this.#problems.get(c.name) ?? null,
      settings: c.settings, createdAt: null, updatedAt: null,
    }));
    for (const c of this.#api.all()) views.push(this.#apiView(c));
    return views;
  }

  /** One connection by name (the file's when both define it). */
  get(name: string): ConnectionView | undefined {
    return this.list().find((c) => c.name === name);
  }

  /** Adds an API connection (validated like the file; applied at once, here and on every instance). */
  async add(name: string, raw: unknown): Promise<ConnectionView> {
    const view = await this.#serial(async () => this.#apiView(await this.#api.add(name, raw)));
    await this.#announce();
    return view;
  }

  /** Changes fields of an API connection (`null` unsets a field); applied at once, here and on every instance. */
  async update(name: string, patch: Record<string, unknown>): Promise<ConnectionView> {
    const view = await this.#serial(async () => this.#apiView(await this.#api.update(name, patch)));
    await this.#announce();
    return view;
  }

  /** Removes an API connection; its store is closed (on every instance). */
  async remove(name: string): Promise<void> {
    await this.#serial(() => this.#api.remove(name));
    await this.#announce();
  }

  /**
   * Re-reads the API connections from the catalog and applies them: another
   * instance changed them. A connection that cannot be built is logged and
   * left out, as at start.
   */
  refreshFromCatalog(): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) return;
      for (const warning of await this.#api.load()) this.#o.log.warn(warning, 'remote connection from the catalog not served');
      const errors = await this.#sync(this.#file);
      if (errors.length > 0) this.#o.log.warn({ errors }, 'remote connections changed elsewhere could not all be applied');
    });
  }

  async #announce(): Promise<void> {
    // The change is stored and applied here; the other instances catch up at their next start if this fails.
    await this.#o.changes?.publish('connections').catch((err: unknown) => this.#o.log.warn({ err: String(err) }, 'could not announce a connection change'));
  }

  /** Stops watching, unregisters every connection and closes every store. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    await this.#watcher?.close();
    await this.#serial(async () => {
      for (const name of this.#live.keys()) this.#o.registry.delete(name);
      const stores = [...this.#live.values()].map((l) => l.store);
      this.#live.clear();
      for (const [store, timer] of this.#retiring) {
        clearTimeout(timer);
        stores.push(store);
      }
      this.#retiring.clear();
      await Promise.allSettled(stores.map((s) => s.close()));
    });
  }

  #apiView(c: ApiConnection): ConnectionView {
    const live = this.#live.get(c.name);
    return {
      name: c.name, source: 'api', active: live?.source === 'api',
      problem: c.problem ?? (live?.source === 'api' ? null : (this.#problems.get(c.name) ?? null)),
      settings: c.settings ?? null, createdAt: c.createdAt, updatedAt: c.updatedAt,
    };
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** For API changes: a file connection cannot fail here (they are reused), so any error is thrown. */
  async #syncOrThrow(prebuilt: Map<string, ObjectStore>): Promise<void> {
    const errors = await this.#sync(this.#file, prebuilt);
    if (errors.length > 0) throw new Error(errors.join('; '));
  }

  /**
   * Builds the stores the plan needs (reusing unchanged ones and `prebuilt`),
   * then swaps them into the registry. Returns the file's errors without
   * changing anything when a file connection's store cannot be built.
   */
  async #sync(file: FileConnection[], prebuilt = new Map<string, ObjectStore>()): Promise<string[]> {
    const plan = planConnections(file, this.#api.servable());
    const problems = new Map(plan.shadowed);
    const built = new Map<string, ObjectStore>();
    const errors: string[] = [];
    for (const p of plan.serve) {
      const live = this.#live.get(p.name);
      if (live !== undefined && live.source === p.source && live.fingerprint === p.fingerprint) continue;
      const store = prebuilt.get(p.name) ?? (await this.#tryBuild(p, errors, problems));
      if (store !== undefined) built.set(p.name, store);
    }
    const unused = [...prebuilt.values()].filter((s) => ![...built.values()].includes(s));
    if (errors.length > 0) {
      await Promise.allSettled([...built.values(), ...unused].map((s) => s.close()));
      return errors;
    }
    await Promise.allSettled(unused.map((s) => s.close()));
    this.#commit(plan.serve, built, problems);
    return [];
  }

  async #tryBuild(p: PlannedConnection, errors: string[], problems: Map<string, string>): Promise<ObjectStore | undefined> {
    try {
      return await this.#build(p.name, p.settings);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const field = err instanceof ConnectionSetupError && err.field !== undefined ? `.${err.field}` : '';
      if (p.source === 'file') errors.push(`${this.path}:${p.line ?? 1}: ${p.name}${field}: ${message}`);
      else problems.set(p.name, `not served: ${message}`);
      return undefined;
    }
  }

  #commit(serve: PlannedConnection[], built: Map<string, ObjectStore>, problems: Map<string, string>): void {
    const next = new Map<string, Live>();
    for (const p of serve) {
      const store = built.get(p.name);
      const live = this.#live.get(p.name);
      if (store !== undefined) next.set(p.name, { source: p.source, fingerprint: p.fingerprint, settings: p.settings, store });
      else if (live !== undefined && live.source === p.source && live.fingerprint === p.fingerprint) next.set(p.name, live);
    }
    for (const [name, live] of this.#live) {
      if (next.get(name) === live) continue;
      if (!next.has(name)) this.#o.registry.delete(name);
      this.#retire(live.store);
    }
    for (const [name, live] of next) {
      if (this.#live.get(name) === live) continue;
      this.#o.registry.set({ name, provider: live.settings.provider, store: live.store, buckets: [...live.settings.buckets] });
    }
    this.#live = next;
    this.#problems = problems;
  }

  /** Closes a replaced store once requests still reading through it have had time to finish. */
  #retire(store: ObjectStore): void {
    const grace = this.#o.closeGraceMs ?? 30_000;
    const close = () => {
      this.#retiring.delete(store);
      void store.close().catch(() => undefined);
    };
    if (grace <= 0) return close();
    const timer = setTimeout(close, grace);
    timer.unref();
    this.#retiring.set(store, timer);
  }
}
