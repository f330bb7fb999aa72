import { AppError } from '../errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { parseLink } from './link-url.ts';

/** A named remote connection: one store and the buckets it may serve. */
export interface Connection {
  name: string;
  provider: 'minio' | 'google' | 'azure' | 'fs';
  store: ObjectStore;
  /** Allow-list of buckets (or `fs` storage ids). */
  buckets: readonly string[];
}

/** Where a bucket link points. */
export interface ResolvedLink {
  connection: string;
  store: ObjectStore;
  bucket: string;
  key: string;
}

/**
 * Maps `<scheme>://<bucket>/<key>` to the connection whose provider and
 * allow-list contain the bucket, like a URI registry. Failures name the reason.
 */
export class LinkRegistry {
  readonly #connections = new Map<string, Connection>();

  /** Adds or replaces a connection by name. */
  set(connection: Connection): void {
    this.#connections.set(connection.name, connection);
  }

  /** Removes a connection by name. */
  delete(name: string): boolean {
    return this.#connections.delete(name);
  }

  list(): Connection[] {
    return [...this.#connections.values()];
  }

  /** Resolves a bucket link; throws `InvalidInput` saying why it cannot. */
  resolve(link: string, field = 'link'): ResolvedLink {
    const parsed = parseLink(link, field);
    if (parsed.kind === 'public') {
      throw new AppError('InvalidInput', `${field}: public http(s) links are not served by a bucket connection`, { field });
    }
    for (const c of this.#connections.values()) {
      if (c.provider === parsed.provider && c.buckets.includes(parsed.bucket)) {
        return { connection: c.name, store: c.store, bucket: parsed.bucket, key: parsed.key };
      }
    }
    throw new AppError(
      'InvalidInput',
      `${field}: no remote connection allows ${parsed.provider} bucket "${parsed.bucket}": add it to the buckets of a ` +
        `connection in remote_links.yml (REMOTE_LINKS_PATH) or through remote-storage.connections.add`,
      { field, bucket: parsed.bucket, provider: parsed.provider },
    );
  }
}
