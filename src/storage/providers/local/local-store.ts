/**
 * The local-disk object store (provider `http`): bucket `b` is the folder
 * `root/b/` and key `k` the file `root/b/k`, exactly the keys a cloud bucket
 * would hold, so copying the folders into a bucket is a valid migration.
 * Nothing but objects lives in bucket folders: temp files and multipart parts
 * go to `tmpDir`, which must be on the same filesystem as `root`.
 */
import { existsViaHead } from '../../exists-via-head.ts';
import { constants as fsConstants } from 'node:fs';
import { copyFile, lstat, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import type {
  GetOptions,
  GetResult,
  ListOptions,
  ListPage,
  LocalFile,
  LocalFileOptions,
  MultipartUpload,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutOptions,
  StoreCapabilities,
} from '../../object-store.ts';
import { bodyStream } from '../../object-store.ts';
import { validateBucket, validateKey } from '../../keys.ts';
import { errnoCode, guard, localError, LOCAL_PROVIDER, missingObject, throwIfAborted, type ErrorContext } from './fs-errors.ts';
import { fsyncDir, objectInfo, READ_OBJECT_FLAGS, syncFile, writeBody } from './file-io.ts';
import { localFileGate, localFileOf } from './local-file.ts';
import { LocalLayout } from './paths.ts';
import type { SyncGate } from './sync-gate.ts';
import { listBucket } from './list.ts';
import { LocalMultipartUpload } from './multipart.ts';
import { assertAbsent, commitFile, removeObject } from './commit.ts';
import { checkDeclaredSize, LOCAL_MAX_OBJECT_SIZE, moveOrCopy, resolveRange, sourceStats, sweepDir } from './support.ts';

export { LOCAL_MAX_OBJECT_SIZE };

/**
 * Read size of a streamed object: a small one in one read, a large one
 * (copies, video downloads) in 256 KiB chunks: a quarter of the calls, hash
 * updates and socket writes of the 64 KiB default, for a few hundred KiB
 * more memory per stream.
 */
function readChunk(length: number): number {
  return Math.min(Math.max(length, 16 * 1024), 256 * 1024);
}

const CAPABILITIES: StoreCapabilities = Object.freeze({
  multipart: true,
  serverSideCopy: true,
  conditionalPut: true,
  presignedUrls: false,
  maxObjectSize: LOCAL_MAX_OBJECT_SIZE,
});

/** Options of {@link createLocalStore}. */
export interface LocalStoreOptions {
  /** Folder holding one sub-folder per bucket. */
  readonly root: string;
  /** Scratch folder for temp files and parts; default `<root>/.tmp`. Same filesystem as `root`. */
  readonly tmpDir?: string | undefined;
  /**
   * Serve these buckets from these folders instead of `root/<bucket>` (used by
   * the `fs` links provider); only these buckets exist then.
   */
  readonly bucketFolders?: Readonly<Record<string, string>> | undefined;
  /**
   * How long `localFile`'s steps may block the event loop, in ms, before they
   * move to the thread pool for a while (see sync-gate.ts); 0 never blocks.
   * Default 2.
   */
  readonly syncBudgetMs?: number | undefined;
  /** Told (in words for an operator) when those steps move to the thread pool because the disk is slow. */
  readonly onSlowDisk?: ((message: string) => void) | undefined;
}

/** The local store, with its folders and temp-file housekeeping. */
export interface LocalStore extends ObjectStore {
  readonly root: string;
  readonly tmpDir: string;
  /** Always present here: every object is a plain file. */
  localFile(bucket: string, key: string, options?: LocalFileOptions): Promise<LocalFile>;
  /**
   * Removes temp files and multipart folders older than `olderThanMs` (default
   * 24 h) left behind by crashed processes; returns how many were removed.
   * Uploads in progress in this store instance are kept.
   */
  sweepTmp(options?: { readonly olderThanMs?: number | undefined }): Promise<number>;
}

/**
 * Creates a local store. Nothing is touched on disk until the first operation;
 * a `tmpDir` equal to `root` or inside a bucket folder is `ConfigInvalid`.
 * `PutOptions.contentType` is not stored: content types always come from the
 * key's extension ({@link contentTypeFor}).
 */
export function createLocalStore(options: LocalStoreOptions): LocalStore {
  return new LocalObjectStore(options);
}

class LocalObjectStore implements LocalStore {
  readonly provider = LOCAL_PROVIDER;
  readonly capabilities = CAPABILITIES;
  readonly #layout: LocalLayout;
  readonly #uploads = new Map<string, LocalMultipartUpload>();
  readonly #gate: SyncGate;

  constructor(options: LocalStoreOptions) {
    this.#layout = new LocalLayout(options.root, options.tmpDir, options.bucketFolders);
    this.#gate = localFileGate(this.#layout.root, options.syncBudgetMs, options.onSlowDisk);
  }

  get root(): string {
    return this.#layout.root;
  }

  get tmpDir(): string {
    return this.#layout.tmpDir;
  }

  get(bucket: string, key: string, options: GetOptions = {}): Promise<GetResult> {
    const ctx = { bucket, key };
    return guard(ctx, async () => {
      throwIfAborted(options.signal, ctx);
      const path = await this.#resolveObject(bucket, key, ctx);
      // Stat through the open handle so the metadata matches the bytes served
      // even if the object is replaced meanwhile.
      const fh = await open(path, READ_OBJECT_FLAGS);
      try {
        const st = await fh.stat({ bigint: true });
        if (!st.isFile()) throw missingObject(ctx);
        const info = objectInfo(bucket, key, st);
        const range = options.range === undefined ? undefined : resolveRange(options.range, info.size, ctx);
        const { start, end } = range ?? { start: 0, end: info.size - 1 };
        // A known end spares the read that would find end-of-file, one per object of a copy.
        const body = info.size === 0 ? fh.createReadStream() : fh.createReadStream({ start, end, highWaterMark: readChunk(end - start + 1) });
        if (options.signal !== undefined) addAbortSignal(options.signal, body);
        return range === undefined ? { info, body } : { info, body, range };
      } catch (err) {
        await fh.close();
        throw err;
      }
    });
  }

  localFile(bucket: string, key: string, options: LocalFileOptions = {}): Promise<LocalFile> {
    const ctx = { bucket, key };
    // Symbolic links inside the bucket are followed once, here, and checked to stay inside.
    return guard(ctx, () => localFileOf(this.#layout, this.#gate, ctx, options.headBytes ?? 0));
  }

  head(bucket: string, key: string): Promise<ObjectInfo> {
    const ctx = { bucket, key };
    return guard(ctx, async () => {
      const st = await lstat(await this.#resolveObject(bucket, key, ctx), { bigint: true });
      if (!st.isFile()) throw missingObject(ctx);
      return objectInfo(bucket, key, st);
    });
  }

  exists(bucket: string, key: string): Promise<boolean> {
    return existsViaHead(() => this.head(bucket, key));
  }

  put(bucket: string, key: string, body: PutBody, options: PutOptions = {}): Promise<ObjectInfo> {
    const ctx = { bucket, key };
    return guard(ctx, async () => {
      validateKey(key);
      checkDeclaredSize(options.size, ctx);
      throwIfAborted(options.signal, ctx);
      const bucketDir = await this.#layout.bucketDir(bucket, true);
      // Fail fast instead of receiving a large body for nothing; the link at commit stays the real guard.
      if (options.ifNoneMatch === true) await assertAbsent(this.#layout, bucketDir, ctx);
      const tmp = await this.#layout.tmpPath();
      try {
        const bytes = await writeBody(tmp, bodyStream(body), { signal: options.signal, limit: LOCAL_MAX_OBJECT_SIZE, sync: true, ctx });
        if (options.size !== undefined && bytes !== options.size) {
          throw localError('Corrupt', `received ${bytes} bytes, ${options.size} were declared`, ctx);
        }
        return await this.#commit(tmp, bucketDir, ctx, options.ifNoneMatch === true);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    });
  }

  putFile(bucket: string, key: string, filePath: string, options: PutOptions = {}): Promise<ObjectInfo> {
    const ctx = { bucket, key };
    return guard(ctx, async () => {
      validateKey(key);
      const source = resolve(filePath);
      const st = await sourceStats(source, ctx);
      checkDeclaredSize(st.size, ctx);
      if (options.size !== undefined && st.size !== options.size) {
        throw localError('Corrupt', `file has ${st.size} bytes, ${options.size} were declared`, ctx);
      }
      const bucketDir = await this.#layout.bucketDir(bucket, true);
      if (options.ifNoneMatch === true) await assertAbsent(this.#layout, bucketDir, ctx);
      const tmp = await this.#layout.tmpPath();
      const moved = await moveOrCopy(source, tmp, st.isSymlink);
      try {
        await syncFile(tmp);
        const info = await this.#commit(tmp, bucketDir, ctx, options.ifNoneMatch === true);
        if (!moved) await rm(source, { force: true });
        return info;
      } catch (err) {
        // Give the caller its file back when we can; otherwise just drop the temp copy.
        if (moved) await rename(tmp, source).catch(() => rm(tmp, { force: true }));
        else await rm(tmp, { force: true });
        throw err;
      }
    });
  }

  list(bucket: string, options: ListOptions = {}): Promise<ListPage> {
    return guard({ bucket }, async () => listBucket(bucket, await this.#layout.bucketDir(bucket), options));
  }

  copy(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string): Promise<ObjectInfo> {
    const src = { bucket: srcBucket, key: srcKey };
    const dst = { bucket: dstBucket, key: dstKey };
    return guard(dst, async () => {
      validateKey(dstKey);
      const srcPath = await guard(src, async () => {
        const path = await this.#resolveObject(srcBucket, srcKey, src);
        if (!(await lstat(path)).isFile()) throw missingObject(src);
        return path;
      });
      const bucketDir = await this.#layout.bucketDir(dstBucket, true);
      const tmp = await this.#layout.tmpPath();
      try {
        // FICLONE makes a reflink (instant, no extra space) where the filesystem supports it.
        const mode = fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE;
        await guard(src, () => copyFile(srcPath, tmp, mode));
        await syncFile(tmp);
        return await this.#commit(tmp, bucketDir, dst, false);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    });
  }

  delete(bucket: string, key: string): Promise<void> {
    const ctx = { bucket, key };
    return guard(ctx, async () => {
      validateKey(key);
      await removeObject(this.#layout, await this.#layout.bucketDir(bucket, true), ctx);
    });
  }

  createMultipart(bucket: string, key: string, options: PutOptions = {}): Promise<MultipartUpload> {
    const ctx = { bucket, key };
    return guard(ctx, async () => {
      validateKey(key);
      const bucketDir = await this.#layout.bucketDir(bucket, true);
      await this.#layout.ensureTmp();
      const uploadId = randomBytes(16).toString('hex');
      const dir = join(this.#layout.tmpDir, uploadId);
      await mkdir(dir);
      const upload = new LocalMultipartUpload({
        bucket,
        key,
        uploadId,
        dir,
        maxObjectSize: LOCAL_MAX_OBJECT_SIZE,
        signal: options.signal,
        tmpPath: () => this.#layout.tmpPath(),
        commit: (tmp) => this.#commit(tmp, bucketDir, ctx, options.ifNoneMatch === true),
        done: () => this.#uploads.delete(uploadId),
      });
      this.#uploads.set(uploadId, upload);
      return upload;
    });
  }

  ensureBucket(bucket: string): Promise<void> {
    return guard({ bucket }, async () => {
      validateBucket(bucket);
      try {
        const created = await mkdir(this.#layout.bucketPath(bucket), { recursive: true });
        if (created !== undefined) await fsyncDir(dirname(created));
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST' && errnoCode(err) !== 'ENOTDIR') throw err;
        throw localError('ConfigInvalid', `bucket path ${this.#layout.bucketPath(bucket)} exists and is not a folder`, { bucket });
      }
      await this.#layout.bucketDir(bucket);
    });
  }

  /** Aborts the multipart uploads still open in this instance (they cannot be resumed). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#uploads.values()].map((upload) => upload.abort()));
  }

  sweepTmp(options: { readonly olderThanMs?: number | undefined } = {}): Promise<number> {
    const cutoff = Date.now() - (options.olderThanMs ?? 24 * 3600_000);
    return guard({}, () => sweepDir(this.#layout.tmpDir, cutoff, (name) => this.#uploads.has(name)));
  }

  async #resolveObject(bucket: string, key: string, ctx: ErrorContext): Promise<string> {
    validateKey(key);
    return this.#layout.objectPath(await this.#layout.bucketDir(bucket), key, ctx);
  }

  /** Publishes a complete, synced temp file; its stats (kept by rename/link) give the info. */
  async #commit(tmp: string, bucketDir: string, ctx: { bucket: string; key: string }, exclusive: boolean): Promise<ObjectInfo> {
    const st = await stat(tmp, { bigint: true });
    await commitFile(this.#layout, tmp, bucketDir, ctx, exclusive);
    return objectInfo(ctx.bucket, ctx.key, st);
  }
}
