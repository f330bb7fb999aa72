import type { Logger } from 'pino';
import type { HotObjectCache } from '../cache/hot-objects.ts';
import type { Catalog } from '../catalog/types.ts';
import type { Config } from '../config/load-config.ts';
import type { ConnectionManager } from '../links/connections.ts';
import type { LinkRegistry } from '../links/registry.ts';
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
}
