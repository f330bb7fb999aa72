/**
 * Multipart uploads emulated on GCS, which has no S3-style multipart API.
 *
 * Part n of upload U is the object `.stowage-multipart/U/n` in the target
 * bucket (a reserved prefix the store never lists and refuses as a key).
 * Completing checks the listed parts against the stored ones, then composes
 * them server-side (`objects.compose`, at most 32 sources per call, so larger
 * uploads compose a tree of intermediate objects under the same prefix) into
 * the key, and deletes the parts. Sources are pinned to the generations that
 * were checked, so a part replaced meanwhile fails the compose instead of
 * slipping in. A server without compose (501, e.g. the firebase-tools
 * emulator) gets the parts streamed through us into one upload instead.
 */
import { Readable } from 'node:stream';
import type { Bucket, File } from '@google-cloud/storage';
import type { MultipartUpload, ObjectInfo, PartInfo } from '../../object-store.ts';
import { isStorageError } from '../../errors.ts';
import { gcsError, guard, type GcsErrorContext } from './gcs-errors.ts';
import { GCS_MAX_OBJECT_SIZE, MULTIPART_PREFIX, objectInfo, type GcsObjectMetadata } from './gcs-objects.ts';

/** Highest part number (as on S3). */
export const MAX_PART_NUMBER = 10_000;
/** Most sources one compose request accepts. */
export const MAX_COMPOSE_SOURCES = 32;
const CONCURRENCY = 8;

/** What an upload needs from its store. */
export interface MultipartHost {
  readonly bucket: Bucket;
  readonly key: string;
  readonly uploadId: string;
  readonly contentType: string;
  readonly ifNoneMatch: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly endpoint: string;
  /** Uploads an object of this bucket (no precondition unless given). */
  upload(key: string, body: Readable, size: number, contentType: string, ifGenerationMatch?: number): Promise<GcsObjectMetadata>;
  /** Whether the server is known to lack compose (shared by the store's uploads). */
  readonly compose: { unsupported: boolean };
  /** Called once the upload is completed or aborted. */
  done(): void;
}

/** A stored object to compose: name and checked generation. */
export interface Source {
  readonly name: string;
  readonly generation: string;
  readonly size: number;
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Splits `items` into groups of at most `size`. */
export function groupsOf<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}

/** The objects under `prefix`, a page at a time. */
async function* pagesUnder(bucket: Bucket, prefix: string): AsyncGenerator<File[]> {
  let pageToken: string | undefined;
  do {
    const query = { prefix, autoPaginate: false, maxResults: 1000, ...(pageToken === undefined ? {} : { pageToken }) };
    const [files, next] = await bucket.getFiles(query);
    yield files;
    pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
  } while (pageToken !== undefined);
}

/** Deletes every object under `prefix` (the parts and intermediates of one upload). */
export async function deleteUnder(bucket: Bucket, prefix: string): Promise<void> {
  for await (const files of pagesUnder(bucket, prefix)) {
    await mapLimit(files, CONCURRENCY, (file) => file.delete({ ignoreNotFound: true }));
  }
}

/**
 * Deletes the parts of uploads whose newest object was created before `cutoff`
 * (epoch ms), except uploads `keep` names; returns how many uploads were removed.
 */
export async function sweepParts(bucket: Bucket, cutoff: number, keep: (uploadId: string) => boolean): Promise<number> {
  let removed = 0;
  let pageToken: string | undefined;
  do {
    const query = { prefix: MULTIPART_PREFIX, delimiter: '/', autoPaginate: false, maxResults: 1000, ...(pageToken === undefined ? {} : { pageToken }) };
    const [, next, raw] = await bucket.getFiles(query);
    for (const prefix of (raw as { prefixes?: string[] } | undefined)?.prefixes ?? []) {
      if (keep(prefix.slice(MULTIPART_PREFIX.length, -1)) || !(await createdBefore(bucket, prefix, cutoff))) continue;
      await deleteUnder(bucket, prefix);
      removed++;
    }
    pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
  } while (pageToken !== undefined);
  return removed;
}

async function createdBefore(bucket: Bucket, prefix: string, cutoff: number): Promise<boolean> {
  const [files] = await bucket.getFiles({ prefix, autoPaginate: false, maxResults: 1000 });
  return files.every((file) => Date.parse(String(file.metadata.timeCreated ?? '')) < cutoff);
}

/** A multipart upload whose parts are hidden objects (see the module comment). */
export class GcsMultipartUpload implements MultipartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly #host: MultipartHost;
  readonly #ctx: GcsErrorContext;
  readonly #prefix: string;
  #finished = false;

  constructor(host: MultipartHost) {
    this.bucket = host.bucket.name;
    this.key = host.key;
    this.uploadId = host.uploadId;
    this.#host = host;
    this.#ctx = { bucket: this.bucket, key: this.key, endpoint: host.endpoint, write: true };
    this.#prefix = `${MULTIPART_PREFIX}${host.uploadId}/`;
  }

  /** Stores part `partNumber` (1..10000), replacing an earlier upload of it. */
  uploadPart(partNumber: number, body: Readable, size: number): Promise<PartInfo> {
    return guard(this.#ctx, async () => {
      if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
        throw gcsError('InvalidKey', `part number must be an integer from 1 to ${MAX_PART_NUMBER}`, this.#ctx);
      }
      this.#assertActive();
      const name = `${this.#prefix}${partNumber}`;
      const meta = await this.#host.upload(name, body, size, 'application/octet-stream');
      const info = objectInfo(this.bucket, name, meta, this.#ctx);
      return { partNumber, etag: info.etag, size: info.size };
    });
  }

  /** Checks the listed parts, composes them in part-number order into the key, and removes them. */
  complete(parts: readonly PartInfo[]): Promise<ObjectInfo> {
    return guard(this.#ctx, async () => {
      this.#assertActive();
      const sources = await this.#verify(checkList(parts, this.#ctx));
      if (this.#host.ifNoneMatch && (await this.#host.bucket.file(this.key).exists())[0]) {
        // Best effort against servers that ignore ifGenerationMatch; atomic on GCS.
        throw gcsError('PreconditionFailed', `${this.bucket}/${this.key}: the object already exists`, this.#ctx);
      }
      const meta = await this.#assemble(sources);
      this.#finish();
      await deleteUnder(this.#host.bucket, this.#prefix).catch(() => undefined);
      return objectInfo(this.bucket, this.key, meta, this.#ctx);
    });
  }

  /** Removes the parts; harmless when already completed or aborted. */
  abort(): Promise<void> {
    return guard(this.#ctx, async () => {
      this.#finish();
      await deleteUnder(this.#host.bucket, this.#prefix);
    });
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#host.done();
  }

  #assertActive(): void {
    if (this.#finished) {
      throw gcsError('NotFound', `multipart upload ${this.uploadId} not found (completed or aborted)`, this.#ctx);
    }
  }

  /** The stored parts matching `parts` (etag and size), as compose sources. */
  async #verify(parts: readonly PartInfo[]): Promise<Source[]> {
    const stored = new Map<string, GcsObjectMetadata>();
    for await (const files of pagesUnder(this.#host.bucket, this.#prefix)) {
      for (const file of files) stored.set(file.name, file.metadata as GcsObjectMetadata);
    }
    let total = 0;
    const sources = parts.map((part) => {
      const name = `${this.#prefix}${part.partNumber}`;
      const meta = stored.get(name);
      const info = meta === undefined ? undefined : objectInfo(this.bucket, name, meta, this.#ctx);
      if (meta?.generation === undefined || info === undefined || info.etag !== part.etag || info.size !== part.size) {
        const why = meta === undefined ? 'was not uploaded' : 'does not match the uploaded part (etag or size)';
        throw gcsError('PreconditionFailed', `part ${part.partNumber} ${why}`, this.#ctx);
      }
      total += info.size;
      return { name, generation: String(meta.generation), size: info.size };
    });
    if (total > GCS_MAX_OBJECT_SIZE) {
      throw gcsError('TooLarge', `object would exceed the ${GCS_MAX_OBJECT_SIZE} byte limit`, this.#ctx);
    }
    return sources;
  }

  async #assemble(sources: readonly Source[]): Promise<GcsObjectMetadata> {
    if (!this.#host.compose.unsupported) {
      try {
        return await composeTree(this.#host, sources, this.#prefix);
      } catch (err) {
        if (!isStorageError(err, 'NotSupported')) throw err;
        this.#host.compose.unsupported = true;
      }
    }
    const total = sources.reduce((sum, s) => sum + s.size, 0);
    const body = Readable.from(concatenate(this.#host.bucket, sources));
    return this.#host.upload(this.key, body, total, this.#host.contentType, this.#host.ifNoneMatch ? 0 : undefined);
  }
}

/** `PreconditionFailed` unless `parts` is non-empty without duplicates; returns them in part order. */
function checkList(parts: readonly PartInfo[], ctx: GcsErrorContext): PartInfo[] {
  if (parts.length === 0) throw gcsError('PreconditionFailed', 'a multipart upload needs at least one part', ctx);
  const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i]?.partNumber === ordered[i - 1]?.partNumber) {
      throw gcsError('PreconditionFailed', `part ${ordered[i]?.partNumber} is listed twice`, ctx);
    }
  }
  return ordered;
}

/**
 * Composes `sources` into the host's key: groups of 32 into intermediates
 * under `prefix`, level by level, then the last level into the key (with the
 * create-only precondition when asked).
 */
export async function composeTree(host: MultipartHost, sources: readonly Source[], prefix: string): Promise<GcsObjectMetadata> {
  const ctx = { bucket: host.bucket.name, key: host.key, endpoint: host.endpoint, write: true };
  let level: readonly Source[] = sources;
  for (let round = 0; level.length > MAX_COMPOSE_SOURCES; round++) {
    const groups = groupsOf(level, MAX_COMPOSE_SOURCES);
    level = await mapLimit(groups, CONCURRENCY, async (group, i) => {
      const meta = await compose(host, group, `${prefix}compose-${round}-${i}`, undefined);
      return { name: `${prefix}compose-${round}-${i}`, generation: String(meta.generation), size: Number(meta.size) };
    });
  }
  return guard(ctx, () => compose(host, level, host.key, host.ifNoneMatch ? 0 : undefined));
}

async function compose(host: MultipartHost, sources: readonly Source[], name: string, ifGenerationMatch: number | undefined): Promise<GcsObjectMetadata> {
  const { bucket } = host;
  const destination = bucket.file(name);
  destination.metadata = { contentType: name === host.key ? host.contentType : 'application/octet-stream' };
  const files = sources.map((s) => bucket.file(s.name, { generation: s.generation }));
  const options = ifGenerationMatch === undefined ? {} : { ifGenerationMatch };
  const [, response] = await guard({ bucket: bucket.name, key: name, endpoint: host.endpoint, write: true }, () => bucket.combine(files, destination, options));
  return response as GcsObjectMetadata;
}

async function* concatenate(bucket: Bucket, sources: readonly Source[]): AsyncGenerator<Buffer> {
  for (const source of sources) {
    for await (const chunk of bucket.file(source.name, { generation: source.generation }).createReadStream()) yield chunk as Buffer;
  }
}
