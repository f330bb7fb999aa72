import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { HotObjectCache } from './cache/hot-objects.ts';
import { createCatalog } from './catalog/create-catalog.ts';
import type { Config } from './config/load-config.ts';
import { createPublicLinkStore } from './links/public-store.ts';
import { ConnectionManager } from './links/connections.ts';
import { LinkRegistry } from './links/registry.ts';
import { AuthService, UrlSigner } from './services/auth.ts';
import { ensureAdminKey, urlSigningSecret } from './services/bootstrap.ts';
import { Ingestor } from './services/ingest.ts';
import { ItemService } from './services/items.ts';
import type { Services } from './services/services.ts';
import { createPrimaryStore, sweepPrimaryBuckets } from './storage/create-store.ts';
import { buildServer } from './http/server.ts';

/** A wired Stowage: services plus the HTTP server (not yet listening). */
export interface App {
  services: Services;
  server: FastifyInstance;
  /** Stops the server and releases the catalog and stores. */
  close(): Promise<void>;
}

/** Builds every service from the config: catalog (migrated), storage, auth, HTTP. */
export async function createApp(config: Config, log: Logger): Promise<App> {
  await mkdir(config.dataPath, { recursive: true });
  const catalog = await createCatalog({ url: config.catalogUrl, logger: log });
  try {
    const primary = await createPrimaryStore(config);
    const { store } = primary;
    // Uploads abandoned by a crashed instance cost storage; clearing them must not delay the start.
    void sweepPrimaryBuckets(config, primary).then(
      (n) => { if (n > 0) log.info({ removed: n }, 'removed abandoned uploads'); },
      (err: unknown) => log.warn({ err: String(err) }, 'could not sweep abandoned uploads'),
    );
    await ensureAdminKey(config, catalog, log);
    const links = new LinkRegistry();
    // A broken remote_links.yml stops the start here, naming each line to fix.
    const connections = new ConnectionManager({ path: config.remoteLinksPath, registry: links, catalog, log });
    await connections.start();
    const publicLinks = createPublicLinkStore({ allowHosts: config.linksAllowHosts });
    const services: Services = {
      config, log, catalog, store, links, connections,
      auth: new AuthService(catalog, config.adminToken),
      signer: new UrlSigner(await urlSigningSecret(catalog)),
      ingest: new Ingestor({
        catalog, store, bucket: config.storage.publicBucket,
        tmpDir: join(config.dataPath, 'tmp', 'uploads'), maxBytes: config.limits.uploadBytes,
      }),
      items: new ItemService(catalog, store, links, { tmpDir: join(config.dataPath, 'tmp', 'links'), publicLinks }),
      hot: new HotObjectCache(config.cache.memoryBytes),
    };
    const server = await buildServer(services);
    return {
      services, server,
      close: async () => {
        await server.close();
        await connections.close();
        await store.close();
        await publicLinks.close();
        await catalog.close();
      },
    };
  } catch (err) {
    await catalog.close();
    throw err;
  }
}
