import type { Logger } from 'pino';
import type { Caches } from '../cache/cache-tiers.ts';
import type { HotObjectCache } from '../cache/hot-objects.ts';
import type { ChangeFeed } from '../catalog/change-feed.ts';
import type { Catalog } from '../catalog/types.ts';
import type { Config } from '../config/load-config.ts';
import type { ConnectionManager } from '../links/connections.ts';
import type { LinkRegistry } from '../links/registry.ts';
import type { JobRunner } from '../migrate/job-runner.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { AuthService, UrlSigner } from './auth.ts';
import type { Ingestor } from './ingest.ts';
import type { ItemService } from './items.ts';

/** Everything a request handler may call; built once by `createApp`. */
export interface Services {
  config: Config;
  log: Logger;
  catalog: Catalog;
  /** Primary storage (`<prefix>-public` and `<prefix>-private`). */
  store: ObjectStore;
  links: LinkRegistry;
  /** Named remote connections (remote_links.yml and the API) feeding `links`. */
  connections: ConnectionManager;
  auth: AuthService;
  signer: UrlSigner;
  ingest: Ingestor;
  items: ItemService;
  /** Small immutable originals kept in memory. */
  hot: HotObjectCache;
  /**
   * Disk caches under `DATA_PATH/cache/<tier>`: `storage` (originals read from
   * cloud stores and remote connections, used through `store` and the
   * connections' stores), `previews` and `converter` (derived images).
   */
  caches: Caches;
  /** Announces shared-settings changes to every instance of the catalog (PostgreSQL LISTEN/NOTIFY). */
  changes: ChangeFeed;
  /** Long jobs (migrations, background link imports) of this instance; takes over abandoned ones when serving. */
  jobs: JobRunner;
}
