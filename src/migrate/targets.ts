/**
 * The stores a migration writes to: a named remote connection (from
 * remote_links.yml or added through the API), or the STORAGE_* settings of
 * another `.env` file, i.e. exactly what the primary storage will be after
 * the switch.
 */
import type { Logger } from 'pino';
import type { Catalog } from '../catalog/types.ts';
import { ConfigError, loadConfig, type Config } from '../config/load-config.ts';
import { defaultStoreFactory } from '../links/connection-stores.ts';
import { ConnectionManager } from '../links/connections.ts';
import { LinkRegistry } from '../links/registry.ts';
import { openPrimaryStore } from '../storage/create-store.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { MigrationAborted } from './backoff.ts';

/** A store opened for a migration, and how to release it. */
export interface OpenedTarget {
  store: ObjectStore;
  /** Where it is, for messages (no secrets). */
  describe: string;
  close(): Promise<void>;
}

/** Retries of single store calls under ours: short, our back-off handles long outages. */
const STORE_RETRY = { maxAttempts: 3 } as const;

/** The connection named `name`, loaded as the server loads them (file, then catalog). */
export async function openConnectionTarget(config: Config, catalog: Pick<Catalog, 'connections'>, name: string, log: Logger): Promise<OpenedTarget> {
  const registry = new LinkRegistry();
  const manager = new ConnectionManager({
    path: config.remoteLinksPath, registry, catalog, log, watch: false, buildStore: defaultStoreFactory(STORE_RETRY), closeGraceMs: 0,
  });
  await manager.start();
  const found = registry.list().find((c) => c.name === name);
  if (found === undefined) {
    const view = manager.get(name);
    const known = manager.list().map((c) => c.name);
    await manager.close();
    if (view?.problem != null) throw new MigrationAborted(`connection ${name} is not usable: ${view.problem}`);
    throw new MigrationAborted(`no connection named ${name} (in ${config.remoteLinksPath} or added through the API)` +
      (known.length > 0 ? `; known: ${known.join(', ')}` : ''));
  }
  return { store: found.store, describe: `connection ${name} (${found.provider})`, close: () => manager.close() };
}

/** The store the STORAGE_* settings of `envFile` describe (the process environment is not read). */
export async function openEnvTarget(envFile: string): Promise<OpenedTarget & { config: Config }> {
  let config: Config;
  try {
    config = loadConfig({ env: {}, envFile });
  } catch (err) {
    if (err instanceof ConfigError) throw new MigrationAborted(`target settings ${envFile}: ${err.message}`);
    throw err;
  }
  const { store } = await openPrimaryStore(config, STORE_RETRY);
  return { store, config, describe: `${config.storage.provider} settings of ${envFile}`, close: () => store.close() };
}
