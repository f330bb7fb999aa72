/**
 * Multipart uploads of the local store: parts are files
 * `tmpDir/<uploadId>/<partNumber>`; completing concatenates them (streaming)
 * into a temp file that is then published atomically like any put.
 */
import { createReadStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { MultipartUpload, ObjectInfo, PartInfo } from '../../object-store.ts';
import { errnoCode, guard, localError, throwIfAborted, type ErrorContext } from './fs-errors.ts';
import { etagOf, writeBody } from './file-io.ts';

/** Highest part number (as on S3). */
export const MAX_PART_NUMBER = 10_000;

/** What an upload needs to know and to call back into its store. */
export interface UploadSpec {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** The folder holding the parts. */
  readonly dir: string;
  readonly maxObjectSize: number;
  readonly signal?: AbortSignal | undefined;
  /** A fresh temp file path. */
  tmpPath(): Promise<string>;
  /** Publishes the assembled temp file at the upload's key. */
  commit(tmp: string): Promise<ObjectInfo>;
  /** Called once the upload is completed or aborted. */
  done(): void;
}

/**
 * A local multipart upload. Completing validates the listed parts against the
 * stored ones: a missing part, a duplicate part number or an etag/size
 * mismatch is `PreconditionFailed` (S3's `InvalidPart`); a part whose body
 * length differs from the declared size is `Corrupt`.
 */
export class LocalMultipartUpload implements MultipartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly #spec: UploadSpec;
  readonly #ctx: ErrorContext;

  constructor(spec: UploadSpec) {
    this.bucket = spec.bucket;
    this.key = spec.key;
    this.uploadId = spec.uploadId;
    this.#spec = spec;
    this.#ctx = { bucket: spec.bucket, key: spec.key };
  }

  /** Stores part `partNumber` (1..10000), replacing an earlier upload of it. */
  uploadPart(partNumber: number, body: Readable, size: number): Promise<PartInfo> {
    return guard(this.#ctx, async () => {
      if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
        throw localError('InvalidKey', `part number must be an integer from 1 to ${MAX_PART_NUMBER}`, this.#ctx);
      }
      await this.#assertActive();
      const tmp = join(this.#spec.dir, `${partNumber}.${randomUUID()}.tmp`);
      try {
        const opts = { signal: this.#spec.signal, limit: this.#spec.maxObjectSize, sync: false, ctx: this.#ctx };
        const bytes = await writeBody(tmp, body, opts);
        if (bytes !== size) {
          throw localError('Corrupt', `part ${partNumber} has ${bytes} bytes, ${size} were declared`, this.#ctx);
        }
        const path = join(this.#spec.dir, String(partNumber));
        await rename(tmp, path);
        return { partNumber, etag: etagOf(await stat(path, { bigint: true })), size: bytes };
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    });
  }

  /** Assembles the listed parts in part-number order and publishes the object. */
  complete(parts: readonly PartInfo[]): Promise<ObjectInfo> {
    return guard(this.#ctx, async () => {
      throwIfAborted(this.#spec.signal, this.#ctx);
      const ordered = this.#checkList(parts);
      await this.#assertActive();
      const paths = await this.#verifyParts(ordered);
      const tmp = await this.#spec.tmpPath();
      let info: ObjectInfo;
      try {
        const opts = { signal: this.#spec.signal, limit: this.#spec.maxObjectSize, sync: true, ctx: this.#ctx };
        await writeBody(tmp, Readable.from(concatenate(paths)), opts);
        info = await this.#spec.commit(tmp);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      await this.#discard();
      return info;
    });
  }

  /** Removes the parts; harmless when already completed or aborted. */
  abort(): Promise<void> {
    return guard(this.#ctx, () => this.#discard());
  }

  async #discard(): Promise<void> {
    await rm(this.#spec.dir, { recursive: true, force: true });
    this.#spec.done();
  }

  async #assertActive(): Promise<void> {
    try {
      if ((await stat(this.#spec.dir)).isDirectory()) return;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    throw localError('NotFound', `multipart upload ${this.uploadId} not found (completed or aborted)`, this.#ctx);
  }

  #checkList(parts: readonly PartInfo[]): PartInfo[] {
    if (parts.length === 0) throw localError('PreconditionFailed', 'a multipart upload needs at least one part', this.#ctx);
    const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    for (let i = 1; i < ordered.length; i++) {
      if (ordered[i]?.partNumber === ordered[i - 1]?.partNumber) {
        throw localError('PreconditionFailed', `part ${ordered[i]?.partNumber} is listed twice`, this.#ctx);
      }
    }
    return ordered;
  }

  async #verifyParts(parts: readonly PartInfo[]): Promise<string[]> {
    let total = 0;
    const paths: string[] = [];
    for (const part of parts) {
      const path = join(this.#spec.dir, String(part.partNumber));
      const st = await stat(path, { bigint: true }).catch((err: unknown) => {
        if (errnoCode(err) === 'ENOENT') return undefined;
        throw err;
      });
      if (st === undefined || etagOf(st) !== part.etag || Number(st.size) !== part.size) {
        const why = st === undefined ? 'was not uploaded' : 'does not match the uploaded part (etag or size)';
        throw localError('PreconditionFailed', `part ${part.partNumber} ${why}`, this.#ctx);
      }
      total += part.size;
      paths.push(path);
    }
    if (total > this.#spec.maxObjectSize) {
      throw localError('TooLarge', `object would exceed the ${this.#spec.maxObjectSize} byte limit`, this.#ctx);
    }
    return paths;
  }
}

async function* concatenate(paths: readonly string[]): AsyncGenerator<Buffer> {
  for (const path of paths) {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
  }
}
