/**
 * Multipart uploads on Azure: each part is one staged block of the target
 * blob, with an id derived from the upload id and the part number (so
 * concurrent uploads to one key never overwrite each other's parts), and
 * `complete` commits the block list. Nothing exists to abort: uncommitted
 * blocks are invisible and Azure deletes them after a week (or when another
 * upload to the same key commits).
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { BlockBlobClient } from '@azure/storage-blob';
import type { MultipartUpload, ObjectInfo, PartInfo } from '../../object-store.ts';
import { azureError } from './azure-errors.ts';
import { objectInfo, signalOption } from './object-info.ts';
import { blockId, MAX_BLOCK_BYTES, MAX_BLOCKS } from './upload.ts';

/** What an upload needs from its store. */
export interface MultipartSpec {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly blob: BlockBlobClient;
  readonly contentType: string;
  readonly ifNoneMatch: boolean;
  readonly signal?: AbortSignal | undefined;
  /** Runs `fn`, mapping what it throws to a `StorageError` (operation `op`, a write). */
  guard<T>(op: string, fn: () => Promise<T>): Promise<T>;
}

const EMPTY_MD5 = createHash('md5').digest('hex');

/** Counts and hashes a part on its way to Azure; too many or too few bytes fail the stream. */
class PartMeter extends Transform {
  readonly #hash = createHash('md5');
  readonly #expected: number;
  #seen = 0;

  constructor(expected: number) {
    super();
    this.#expected = expected;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#expected) return done(new PartSizeError(`more than ${this.#expected}`, this.#expected));
    this.#hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.#seen !== this.#expected) return done(new PartSizeError(String(this.#seen), this.#expected));
    done();
  }

  get md5(): string {
    return this.#hash.copy().digest('hex');
  }
}

class PartSizeError extends Error {
  constructor(received: string, expected: number) {
    super(`received ${received} bytes, ${expected} were declared`);
  }
}

/**
 * A multipart upload to Azure. Completing checks the listed parts against the
 * ones uploaded through this object (etag and size) and against the blocks
 * Azure holds: any mismatch, missing or duplicate part is `PreconditionFailed`.
 */
export class AzureMultipartUpload implements MultipartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly #spec: MultipartSpec;
  readonly #parts = new Map<number, PartInfo>();
  #finished = false;

  constructor(spec: MultipartSpec) {
    this.bucket = spec.bucket;
    this.key = spec.key;
    this.uploadId = spec.uploadId;
    this.#spec = spec;
  }

  /** Stages part `partNumber` (1..50000, at most 4000 MiB), replacing an earlier upload of it. */
  uploadPart(partNumber: number, body: Readable, size: number): Promise<PartInfo> {
    return this.#spec.guard('write', async () => {
      this.#checkPart(partNumber, size);
      this.#assertActive();
      const meter = new PartMeter(size);
      const abort = new AbortController();
      const onAbort = () => abort.abort();
      this.#spec.signal?.addEventListener('abort', onAbort, { once: true });
      // A failing body never ends the HTTP request by itself: cancel it explicitly.
      body.once('error', (err) => meter.destroy(err));
      meter.once('error', () => abort.abort());
      try {
        if (size === 0) await emptyBody(body.pipe(meter));
        else await this.#spec.blob.stageBlock(this.#blockId(partNumber), body.pipe(meter), size, { abortSignal: abort.signal });
      } catch (err) {
        body.destroy();
        const cause: unknown = meter.errored ?? err;
        if (cause instanceof PartSizeError) throw azureError('Corrupt', `part ${partNumber}: ${cause.message}`, { bucket: this.bucket, key: this.key });
        throw cause;
      } finally {
        this.#spec.signal?.removeEventListener('abort', onAbort);
      }
      const part = { partNumber, etag: `"${size === 0 ? EMPTY_MD5 : meter.md5}"`, size };
      this.#parts.set(partNumber, part);
      return part;
    });
  }

  /** Commits the listed parts in part-number order as the object. */
  complete(parts: readonly PartInfo[]): Promise<ObjectInfo> {
    return this.#spec.guard('write', async () => {
      this.#assertActive();
      const ordered = this.#checkList(parts);
      const ids = ordered.filter((p) => p.size > 0).map((p) => this.#blockId(p.partNumber));
      if (ids.length > 0) await this.#checkStaged(ordered);
      const res = await this.#spec.blob.commitBlockList(ids, {
        blobHTTPHeaders: { blobContentType: this.#spec.contentType },
        conditions: this.#spec.ifNoneMatch ? { ifNoneMatch: '*' } : {},
        ...signalOption(this.#spec.signal),
      });
      this.#finished = true;
      const size = ordered.reduce((sum, p) => sum + p.size, 0);
      return objectInfo(this.bucket, this.key, { ...res, contentType: this.#spec.contentType }, size);
    });
  }

  /** Forgets the upload; idempotent. The staged blocks expire in Azure by themselves. */
  async abort(): Promise<void> {
    this.#finished = true;
    this.#parts.clear();
  }

  #blockId(partNumber: number): string {
    return blockId(this.uploadId, partNumber);
  }

  #fail(message: string): Error {
    return azureError('PreconditionFailed', message, { bucket: this.bucket, key: this.key });
  }

  #assertActive(): void {
    if (this.#finished) {
      throw azureError('NotFound', `multipart upload ${this.uploadId} not found (completed or aborted)`, { bucket: this.bucket, key: this.key });
    }
  }

  #checkPart(partNumber: number, size: number): void {
    const ctx = { bucket: this.bucket, key: this.key };
    if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > MAX_BLOCKS) {
      throw azureError('InvalidKey', `part number must be an integer from 1 to ${MAX_BLOCKS}`, ctx);
    }
    if (!Number.isSafeInteger(size) || size < 0) throw azureError('InvalidKey', `part size must be a non-negative integer`, ctx);
    if (size > MAX_BLOCK_BYTES) throw azureError('TooLarge', `part ${partNumber} has ${size} bytes; Azure parts are at most ${MAX_BLOCK_BYTES}`, ctx);
  }

  #checkList(parts: readonly PartInfo[]): PartInfo[] {
    if (parts.length === 0) throw this.#fail('a multipart upload needs at least one part');
    const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    for (const [i, part] of ordered.entries()) {
      if (i > 0 && ordered[i - 1]?.partNumber === part.partNumber) throw this.#fail(`part ${part.partNumber} is listed twice`);
      const mine = this.#parts.get(part.partNumber);
      if (mine === undefined) throw this.#fail(`part ${part.partNumber} was not uploaded`);
      if (mine.etag !== part.etag || mine.size !== part.size) throw this.#fail(`part ${part.partNumber} does not match the uploaded part (etag or size)`);
    }
    return ordered;
  }

  /** The parts must still be staged in Azure with their sizes (another commit to the key discards them). */
  async #checkStaged(parts: readonly PartInfo[]): Promise<void> {
    const list = await this.#spec.blob.getBlockList('uncommitted', signalOption(this.#spec.signal));
    const staged = new Map((list.uncommittedBlocks ?? []).map((b) => [b.name, b.size]));
    for (const part of parts) {
      if (part.size > 0 && staged.get(this.#blockId(part.partNumber)) !== part.size) {
        throw this.#fail(`part ${part.partNumber} is no longer staged in Azure (did another upload to this key complete?)`);
      }
    }
  }
}

async function emptyBody(stream: Readable): Promise<void> {
  for await (const _ of stream) {
    // PartMeter fails the stream if a byte arrives.
  }
}
