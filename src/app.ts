import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { withCache } from './cache/caching-store.ts';
import { closeCaches, openCaches, type Caches } from './cache/cache-tiers.ts';
import { HotObjectCache } from './cache/hot-objects.ts';
import { openChangeFeed, type ChangeFeed } from './catalog/change-feed.ts';
import { createCatalog } from './catalog/create-catalog.ts';
import { claimStorageIfLocal } from './catalog/local-storage-claim.ts';
import type { Catalog } from './catalog/types.ts';
import type { Config } from './config/load-config.ts';
import { createPublicLinkStore } from './links/public-store.ts';
import { defaultStoreFactory } from './links/connection-stores.ts';
import { ConnectionManager } from './links/connections.ts';
import { LinkRegistry } from './links/registry.ts';
import { JobRunner } from './migrate/job-runner.ts';
import { linkImportLauncher } from './migrate/link-import-job.ts';
import { AuthService, UrlSigner } from './services/auth.ts';
import { ensureAdminKey, urlSigningSecret } from './services/bootstrap.ts';
import { Ingestor, STAGING_PREFIX } from './services/ingest.ts';
import { ItemService } from './services/items.ts';
import type { Services } from './services/services.ts';
import { ABANDONED_UPLOAD_AGE_MS, createPrimaryStore, sweepPrimaryBuckets } from './storage/create-store.ts';
import type { ProviderStore } from './storage/provider-factory.ts';
import type { ObjectStore } from './storage/object-store.ts';
import { deleteStaleUnder } from './storage/sweep-prefix.ts';
import { buildServer } from './http/server.ts';

/** A wired Stowage: services plus the HTTP server (not yet listening). */
export interface App {
  services: Services;
  server: FastifyInstance;
  /** Stops the server and releases the catalog and stores. */
  close(): Promise<void>;
}

/** What every other part of an instance stands on, closed last (in reverse order of opening). */
interface Base {
  catalog: Catalog;
  caches: Caches;
  changes: ChangeFeed;
  close(): Promise<void>;
}

/** Options of {@link createApp}. */
export interface CreateAppOptions {
  /**
   * A serving instance (default): takes the local-storage claim on a shared
   * PostgreSQL catalog and runs the job runner (takes over abandoned jobs).
   * A one-off command (the CLI's `links import`, `migrate project`) working
   * beside a running server does neither; it only runs the jobs it starts.
   */
  serving?: boolean;
}

async function openBase(config: Config, log: Logger, serving: boolean): Promise<Base> {
  const closers: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch((err: unknown) => log.warn({ err: String(err) }, 'close failed'));
  };
  try {
    const catalog = await createCatalog({ url: config.catalogUrl, logger: log });
    closers.push(() => catalog.close());
    // Local disk on a shared PostgreSQL catalog belongs to one instance (DATA_PATH_SHARED aside).
    const claim = serving
      ? await claimStorageIfLocal({ catalogUrl: config.catalogUrl, provider: config.storage.provider, dataPathShared: config.dataPathShared })
      : undefined;
    if (claim !== undefined) closers.push(() => claim.release());
    const changes = await openChangeFeed(config.catalogUrl, log);
    closers.push(() => changes.close());
    const caches = await openCaches(config);
    closers.push(() => closeCaches(caches));
    return { catalog, caches, changes, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Builds every service from the config: catalog (migrated), storage, auth, HTTP. */
export async function createApp(config: Config, log: Logger, options: CreateAppOptions = {}): Promise<App> {
  await mkdir(config.dataPath, { recursive: true });
  const base = await openBase(config, log, options.serving !== false);
  const { catalog, caches, changes } = base;
  try {
    const primary = await createPrimaryStore(config, log);
    const remote = config.storage.provider !== 'http';
    // Local disk is not cached again; a cloud bucket is read through the storage cache.
    const store = remote ? withCache(primary.store, caches.storage, { scope: 'primary', rangePassThroughBytes: config.cache.rangePassThroughBytes }) : primary.store;
    sweepInBackground(config, primary, store, log);
    await ensureAdminKey(config, catalog, log);
    const links = new LinkRegistry();
    // A broken remote_links.yml stops the start here, naming each line to fix.
    const connections = new ConnectionManager({
      path: config.remoteLinksPath, registry: links, catalog, log, buildStore: defaultStoreFactory({}, caches.storage, config.cache.rangePassThroughBytes), changes,
    });
    await connections.start();
    const publicLinks = createPublicLinkStore({ allowHosts: config.linksAllowHosts });
    const items = new ItemService(catalog, store, links, { tmpDir: join(config.dataPath, 'tmp', 'links'), publicLinks });
    // Storage migrations read the primary store itself, not through the storage cache.
    const lists = { catalog, items, store, bucket: config.storage.privateBucket };
    const jobs = new JobRunner({
      catalog, items, links, source: primary.store, storage: config.storage, timing: config.jobs, changes, log,
      launchers: { 'links-import': () => linkImportLauncher(lists) },
    });
    const services: Services = {
      config, log, catalog, store, links, connections, caches, changes, jobs,
      auth: new AuthService(catalog, config.adminToken, changes),
      signer: new UrlSigner(await urlSigningSecret(catalog)),
      ingest: new Ingestor({
        catalog, store, bucket: config.storage.publicBucket,
        tmpDir: join(config.dataPath, 'tmp', 'uploads'), maxBytes: config.limits.uploadBytes,
        stagingBucket: remote ? config.storage.privateBucket : undefined,
      }),
      items,
      hot: new HotObjectCache(config.cache.memoryBytes),
    };
    const server = await buildServer(services);
    // Every serving instance takes over jobs abandoned by others; a one-off command only runs its own.
    if (options.serving !== false) jobs.start();
    return {
      services, server,
      close: async () => {
        // Jobs stop at once and are released (another instance resumes them) while requests finish.
        await Promise.all([server.close(), jobs.close()]);
        await connections.close();
        await store.close();
        await publicLinks.close();
        await base.close();
      },
    };
  } catch (err) {
    await base.close();
    throw err;
  }
}

/** Uploads abandoned by a crashed instance cost storage; clearing them must not delay the start. */
function sweepInBackground(config: Config, primary: ProviderStore, store: ObjectStore, log: Logger): void {
  const staleStaged = config.storage.provider === 'http'
    ? Promise.resolve(0)
    : deleteStaleUnder(store, config.storage.privateBucket, STAGING_PREFIX, ABANDONED_UPLOAD_AGE_MS);
  void Promise.all([sweepPrimaryBuckets(config, primary), staleStaged]).then(([a, b]) => a + b).then(
    (n) => { if (n > 0) log.info({ removed: n }, 'removed abandoned uploads'); },
    (err: unknown) => log.warn({ err: String(err) }, 'could not sweep abandoned uploads'),
  );
}
