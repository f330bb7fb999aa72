/**
 * The `fs` links provider: folders on this host served as buckets, the
 * seed's "File system" provider. A storage id (the bucket part of
 * `fs://<storage-id>/<path>`) maps to one folder; every path is resolved with
 * the local store's own code, so `..`, symbolic links leading out of the
 * folder and special files are refused exactly as there.
 *
 * Read-only unless `writable`: host folders usually hold data Stowage did not
 * write, so writes must be asked for. A writable folder gets Stowage's atomic
 * writes; temp files go to `<folder>/.stowage-tmp` (same filesystem, so the
 * final rename is atomic), which is hidden from listings.
 */
import { isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import type {
  GetOptions, GetResult, ListOptions, ListPage, LocalFile, LocalFileOptions, MultipartUpload, ObjectInfo, ObjectStore, PutBody, PutOptions,
  StoreCapabilities,
} from '../../object-store.ts';
import { isValidBucket } from '../../keys.ts';
import { createLocalStore, LOCAL_MAX_OBJECT_SIZE, type LocalStore } from '../local/index.ts';
import { LocalLayout } from '../local/paths.ts';
import { checkKey, checkReadable, fsError, fsGuard, FS_PROVIDER, FS_TMP_DIR, isReservedKey } from './fs-checks.ts';
import { existsViaHead } from '../../exists-via-head.ts';

/** Options of {@link createFsStore}. */
export interface FsStoreOptions {
  /** Storage id → absolute folder on this host. Ids follow the bucket-name rules. */
  readonly folders: Readonly<Record<string, string>>;
  /** Allow put/copy/delete/multipart; default false (every write is `PermissionDenied`). */
  readonly writable?: boolean | undefined;
  /** Connection name, for messages. */
  readonly name?: string | undefined;
}

interface Mount {
  readonly store: LocalStore;
  readonly layout: LocalLayout;
}

/**
 * Creates a host-folder store. Nothing is touched on disk until the first
 * operation; a storage id that is no valid bucket name or a relative folder is
 * `ConfigInvalid`.
 */
export function createFsStore(options: FsStoreOptions): ObjectStore {
  return new FsStore(options);
}

class FsStore implements ObjectStore {
  readonly provider = FS_PROVIDER;
  readonly capabilities: StoreCapabilities;
  readonly #writable: boolean;
  readonly #name: string;
  readonly #mounts = new Map<string, Mount>();

  constructor(options: FsStoreOptions) {
    this.#writable = options.writable === true;
    this.#name = options.name ?? 'fs';
    const w = this.#writable;
    this.capabilities = Object.freeze({
      multipart: w, serverSideCopy: w, conditionalPut: w, presignedUrls: false, maxObjectSize: LOCAL_MAX_OBJECT_SIZE,
    });
    for (const [id, folder] of Object.entries(options.folders)) {
      if (!isValidBucket(id)) throw fsError('ConfigInvalid', `storage id ${JSON.stringify(id)} is not a valid bucket name`, { bucket: id });
      if (!isAbsolute(folder)) throw fsError('ConfigInvalid', `folder of storage id ${id} must be an absolute path, got ${JSON.stringify(folder)}`, { bucket: id });
      const tmpDir = join(folder, FS_TMP_DIR);
      const bucketFolders = { [id]: folder };
      this.#mounts.set(id, {
        store: createLocalStore({ root: folder, tmpDir, bucketFolders }),
        layout: new LocalLayout(folder, tmpDir, bucketFolders),
      });
    }
  }

  get(bucket: string, key: string, options?: GetOptions): Promise<GetResult> {
    return this.#read(bucket, key, (m) => m.store.get(bucket, key, options));
  }

  head(bucket: string, key: string): Promise<ObjectInfo> {
    return this.#read(bucket, key, (m) => m.store.head(bucket, key));
  }

  /** Host files are plain files: previews and conversions read them in place instead of copying them into memory. */
  localFile(bucket: string, key: string, options?: LocalFileOptions): Promise<LocalFile> {
    return this.#read(bucket, key, (m) => m.store.localFile(bucket, key, options));
  }

  exists(bucket: string, key: string): Promise<boolean> {
    return existsViaHead(() => this.head(bucket, key));
  }

  list(bucket: string, options: ListOptions = {}): Promise<ListPage> {
    return fsGuard({ bucket }, async () => {
      const page = await this.#mount(bucket).store.list(bucket, options);
      // A page may come back shorter than asked; its token still resumes after the hidden entries.
      const objects = page.objects.filter((o) => !isReservedKey(o.key));
      const prefixes = page.prefixes.filter((p) => !p.startsWith(`${FS_TMP_DIR}/`));
      return page.nextToken === undefined ? { objects, prefixes } : { objects, prefixes, nextToken: page.nextToken };
    });
  }

  put(bucket: string, key: string, body: PutBody, options?: PutOptions): Promise<ObjectInfo> {
    return this.#write(bucket, key, (m) => m.store.put(bucket, key, body, options));
  }

  putFile(bucket: string, key: string, filePath: string, options?: PutOptions): Promise<ObjectInfo> {
    return this.#write(bucket, key, (m) => m.store.putFile(bucket, key, filePath, options));
  }

  copy(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string): Promise<ObjectInfo> {
    return this.#write(dstBucket, dstKey, async (dst) => {
      if (srcBucket === dstBucket) {
        await this.#read(srcBucket, srcKey, async () => undefined);
        return dst.store.copy(srcBucket, srcKey, dstBucket, dstKey);
      }
      // Different storage ids are different folders (maybe filesystems): stream the bytes.
      const src = await this.get(srcBucket, srcKey);
      return dst.store.put(dstBucket, dstKey, src.body, { size: src.info.size });
    });
  }

  delete(bucket: string, key: string): Promise<void> {
    return this.#write(bucket, key, (m) => m.store.delete(bucket, key));
  }

  createMultipart(bucket: string, key: string, options?: PutOptions): Promise<MultipartUpload> {
    return this.#write(bucket, key, (m) => m.store.createMultipart(bucket, key, options));
  }

  /** Host folders are never created: the folder must exist (`NotFound` otherwise). */
  ensureBucket(bucket: string): Promise<void> {
    return fsGuard({ bucket }, async () => {
      await this.#mount(bucket).layout.bucketDir(bucket);
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#mounts.values()].map((m) => m.store.close()));
  }

  #mount(bucket: string, forWrite = false): Mount {
    const mount = this.#mounts.get(bucket);
    // As for a missing cloud bucket: reads find nothing, writes point at a setup problem.
    const kind = forWrite ? 'ConfigInvalid' : 'NotFound';
    if (mount === undefined) throw fsError(kind, `storage id ${bucket} is not served by connection ${this.#name}`, { bucket });
    return mount;
  }

  #read<T>(bucket: string, key: string, fn: (m: Mount) => Promise<T>): Promise<T> {
    const ctx = { bucket, key };
    return fsGuard(ctx, async () => {
      const mount = this.#mount(bucket);
      await checkReadable(mount.layout, ctx);
      return fn(mount);
    });
  }

  #write<T>(bucket: string, key: string, fn: (m: Mount) => Promise<T>): Promise<T> {
    const ctx = { bucket, key };
    return fsGuard(ctx, async () => {
      const mount = this.#mount(bucket, true);
      if (!this.#writable) {
        throw fsError('PermissionDenied', `connection ${this.#name} is read-only: set "writable: true" on it to allow writes`, ctx);
      }
      checkKey(ctx);
      return fn(mount);
    });
  }
}
