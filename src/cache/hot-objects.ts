import type { ObjectInfo } from '../storage/object-store.ts';

/** A cached object: its metadata and all its bytes. */
export interface HotEntry {
  info: ObjectInfo;
  bytes: Buffer;
}

// Content-addressed keys end in the SHA-256 of their bytes: what is stored there
// can never change, so a cached copy needs no revalidation.
const IMMUTABLE_KEY = /(^|\/)[0-9a-f]{64}\.[a-z0-9]{1,8}$/;

/** True for keys whose content cannot change (named by their own hash). */
export function isImmutableKey(key: string): boolean {
  return IMMUTABLE_KEY.test(key);
}

/**
 * An in-memory LRU of small, immutable objects (content-addressed originals),
 * bounded in total bytes, so hot images are served without touching the disk
 * or the remote store.
 */
export class HotObjectCache {
  readonly #maxBytes: number;
  readonly #maxEntryBytes: number;
  readonly #entries = new Map<string, HotEntry>();
  #bytes = 0;

  /**
   * @param maxBytes total budget (`CACHE_MEMORY_SIZE`); 0 disables the cache.
   * @param maxEntryBytes largest object kept. Default 1 MiB.
   */
  constructor(maxBytes: number, maxEntryBytes = 1024 * 1024) {
    this.#maxBytes = maxBytes;
    this.#maxEntryBytes = Math.min(maxEntryBytes, maxBytes);
  }

  /** Whether an object of this key and size would be kept. */
  accepts(key: string, size: number): boolean {
    return this.#maxBytes > 0 && size <= this.#maxEntryBytes && isImmutableKey(key);
  }

  get(bucket: string, key: string): HotEntry | undefined {
    const id = `${bucket}/${key}`;
    const hit = this.#entries.get(id);
    if (hit !== undefined) {
      // Re-insert to mark it most recently used (Map keeps insertion order).
      this.#entries.delete(id);
      this.#entries.set(id, hit);
    }
    return hit;
  }

  set(bucket: string, key: string, entry: HotEntry): void {
    if (!this.accepts(key, entry.bytes.length)) return;
    const id = `${bucket}/${key}`;
    const old = this.#entries.get(id);
    if (old !== undefined) {
      this.#bytes -= old.bytes.length;
      this.#entries.delete(id);
    }
    this.#entries.set(id, entry);
    this.#bytes += entry.bytes.length;
    for (const [k, v] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= v.bytes.length;
    }
  }

  /** Bytes and entries held, for stats. */
  stats(): { bytes: number; entries: number; maxBytes: number } {
    return { bytes: this.#bytes, entries: this.#entries.size, maxBytes: this.#maxBytes };
  }
}
