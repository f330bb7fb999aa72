/**
 * The API's side of the connections (`remote-storage.connections.add|update|remove`):
 * validation with the file's schema, clashes with the file and between
 * buckets, persistence in the catalog. The manager serialises calls and
 * applies the result to the registry through `sync`.
 */
import { AppError } from '../errors.ts';
import type { Catalog, JsonObject, StoredConnection } from '../catalog/types.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { bucketOverlaps } from './connection-overlap.ts';
import { CONNECTION_NAME, CONNECTION_NAME_RULE, parseConnectionSettings, type ConnectionSettings } from './connection-schema.ts';
import { ConnectionSetupError, type StoreFactory } from './connection-stores.ts';
import type { FileConnection } from './remote-links-file.ts';

/** A connection of the catalog, with its settings when they (still) validate. */
export interface ApiConnection {
  name: string;
  settings?: ConnectionSettings | undefined;
  /** Set when the stored settings no longer validate. */
  problem?: string | undefined;
  createdAt: string;
  updatedAt: string;
}

/** What {@link ConnectionApi} needs from the manager. */
export interface ConnectionApiDeps {
  catalog: Pick<Catalog, 'connections'>;
  build: StoreFactory;
  fileConnections: () => readonly FileConnection[];
  /** Applies the current connections, using `prebuilt` stores by name. */
  sync: (prebuilt: Map<string, ObjectStore>) => Promise<void>;
}

function invalid(field: string, message: string, extra: Record<string, unknown> = {}): AppError {
  return new AppError('InvalidInput', message, { field, ...extra });
}

function conflict(name: string, where: string): AppError {
  return new AppError('Conflict', `connection name already in use: "${name}" (${where})`, { type: 'NONUNIQUE', errors: [{ name, id: null }], field: 'name' });
}

/** Validates settings from a request; the 400 names the first bad field and lists all. */
export function validateSettings(raw: unknown): ConnectionSettings {
  const parsed = parseConnectionSettings(raw);
  if (parsed.settings !== undefined) return parsed.settings;
  const issues = parsed.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
  const text = issues.map((i) => `${i.field || 'body'}: ${i.message}`).join('; ');
  throw invalid(issues[0]?.field ?? '', text, { issues });
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !CONNECTION_NAME.test(name)) throw invalid('name', `name: ${CONNECTION_NAME_RULE}`);
  return name;
}

function fromRow(row: StoredConnection): ApiConnection {
  const parsed = parseConnectionSettings(row.settings);
  const base = { name: row.name, createdAt: row.createdAt, updatedAt: row.updatedAt };
  if (parsed.settings !== undefined) return { ...base, settings: parsed.settings };
  return { ...base, problem: `stored settings are invalid: ${parsed.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
}

/** API connections, mirrored from the catalog. */
export class ConnectionApi {
  readonly #deps: ConnectionApiDeps;
  readonly #byName = new Map<string, ApiConnection>();

  constructor(deps: ConnectionApiDeps) {
    this.#deps = deps;
  }

  /** Reads the catalog's connections; returns a log entry per one that cannot be served. */
  async load(): Promise<object[]> {
    this.#byName.clear();
    for (const row of await this.#deps.catalog.connections.list()) this.#byName.set(row.name, fromRow(row));
    return this.all().filter((c) => c.problem !== undefined).map((c) => ({ connection: c.name, problem: c.problem }));
  }

  /** All, by name. */
  all(): ApiConnection[] {
    return [...this.#byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Those with valid settings, for the plan. */
  servable(): Array<{ name: string; settings: ConnectionSettings }> {
    return this.all().flatMap((c) => (c.settings === undefined ? [] : [{ name: c.name, settings: c.settings }]));
  }

  async add(rawName: unknown, raw: unknown): Promise<ApiConnection> {
    const name = checkName(rawName);
    const settings = validateSettings(raw);
    if (this.#deps.fileConnections().some((c) => c.name === name)) throw conflict(name, 'defined in remote_links.yml');
    if (this.#byName.has(name)) throw conflict(name, 'added through the API');
    this.#checkBuckets(name, settings);
    const store = await this.#buildOrThrow(name, settings);
    let row: StoredConnection;
    try {
      row = await this.#deps.catalog.connections.create({ name, provider: settings.provider, settings: settings as JsonObject });
    } catch (err) {
      await store.close();
      throw err;
    }
    const added = fromRow(row);
    this.#byName.set(name, added);
    await this.#deps.sync(new Map([[name, store]]));
    return added;
  }

  async update(rawName: unknown, patch: Record<string, unknown>): Promise<ApiConnection> {
    const name = this.#ownName(rawName);
    const current = this.#byName.get(name);
    const stored = await this.#deps.catalog.connections.get(name);
    if (current === undefined || stored === undefined) throw new AppError('NotFound', `connection ${name} not found`, { entity: 'connection', id: name });
    const settings = validateSettings(applyPatch(stored.settings, patch));
    this.#checkBuckets(name, settings);
    const store = await this.#buildOrThrow(name, settings);
    const row = await this.#deps.catalog.connections.update(name, { provider: settings.provider, settings: settings as JsonObject }).catch(async (err: unknown) => {
      await store.close();
      throw err;
    });
    if (row === undefined) {
      await store.close();
      throw new AppError('NotFound', `connection ${name} not found`, { entity: 'connection', id: name });
    }
    const updated = fromRow(row);
    this.#byName.set(name, updated);
    await this.#deps.sync(new Map([[name, store]]));
    return updated;
  }

  async remove(rawName: unknown): Promise<void> {
    const name = this.#ownName(rawName);
    const existed = await this.#deps.catalog.connections.remove(name);
    if (!existed && !this.#byName.has(name)) throw new AppError('NotFound', `connection ${name} not found`, { entity: 'connection', id: name });
    this.#byName.delete(name);
    await this.#deps.sync(new Map());
  }

  /** The name of an API connection: a file connection cannot be changed through the API. */
  #ownName(rawName: unknown): string {
    const name = checkName(rawName);
    if (this.#deps.fileConnections().some((c) => c.name === name) && !this.#byName.has(name)) {
      throw invalid('name', `connection ${name} is defined in remote_links.yml: edit that file to change it`);
    }
    return name;
  }

  #checkBuckets(name: string, settings: ConnectionSettings): void {
    const others = [...this.#deps.fileConnections(), ...this.servable().filter((c) => c.name !== name)];
    const clash = bucketOverlaps([...others, { name, settings }]).find((o) => o.name === name);
    if (clash !== undefined) throw invalid(`buckets.${clash.index}`, `buckets.${clash.index}: ${clash.message}`);
  }

  async #buildOrThrow(name: string, settings: ConnectionSettings): Promise<ObjectStore> {
    try {
      return await this.#deps.build(name, settings);
    } catch (err) {
      const field = err instanceof ConnectionSetupError ? (err.field ?? 'settings') : 'settings';
      throw invalid(field, `${field}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** Stored settings with an update's fields applied: `null` unsets a field; `name` is not a setting. */
export function applyPatch(stored: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...stored };
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'name') continue;
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}
