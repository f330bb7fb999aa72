/**
 * Streaming upload of a body of unknown length into a block blob: the body is
 * cut into blocks staged a few at a time, then committed in one Put Block
 * List. Staged but uncommitted blocks are invisible, so a body that fails
 * midway leaves no object and keeps the previous one; Azure discards them
 * after a week. A body that fits in one block is sent as a single Put Blob.
 */
import { createHash, randomUUID } from 'node:crypto';
import { addAbortSignal, type Readable } from 'node:stream';
import type { BlobHTTPHeaders, BlobRequestConditions, BlockBlobClient } from '@azure/storage-blob';
import { azureError } from './azure-errors.ts';

/** Azure's limit of committed blocks per blob. */
export const MAX_BLOCKS = 50_000;
/** Azure's largest block (API 2019-12-12 and later): 4000 MiB. */
export const MAX_BLOCK_BYTES = 4000 * 1024 * 1024;

/** Options of {@link uploadBlocks}. */
export interface BlockUploadOptions {
  readonly blockSize: number;
  readonly concurrency: number;
  /** When known, the body must have exactly this many bytes (`Corrupt` otherwise, before anything is committed). */
  readonly declaredSize?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly headers: BlobHTTPHeaders;
  readonly conditions: BlobRequestConditions;
  readonly ctx: { readonly bucket: string; readonly key: string };
}

/** What the commit returned. */
export interface UploadResult {
  readonly etag: string | undefined;
  readonly lastModified: Date | undefined;
  readonly size: number;
}

/**
 * Block ids are base64 of 48 characters, the length the SDK's own uploads
 * use: Azure requires every block id of one blob to have the same length.
 */
export function blockId(prefix: string, index: number): string {
  return Buffer.from(`${prefix}${String(index).padStart(48 - prefix.length, '0')}`, 'utf8').toString('base64');
}

/** A fresh 32-character block id prefix. */
export function newBlockPrefix(): string {
  return randomUUID().replaceAll('-', '');
}

function toBuffer(chunk: unknown, ctx: BlockUploadOptions['ctx']): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw azureError('Internal', 'body stream must yield bytes (Buffer, Uint8Array or string)', ctx);
}

const md5 = (data: Buffer): Uint8Array => createHash('md5').update(data).digest();

/** Stages blocks with at most `concurrency` requests in flight; remembers the first failure. */
class Stager {
  readonly ids: string[] = [];
  readonly #inflight = new Set<Promise<void>>();
  readonly #prefix = newBlockPrefix();
  readonly #blob: BlockBlobClient;
  readonly #o: BlockUploadOptions;
  readonly #abort: AbortController;
  failure: unknown;

  constructor(blob: BlockBlobClient, o: BlockUploadOptions, abort: AbortController) {
    this.#blob = blob;
    this.#o = o;
    this.#abort = abort;
  }

  async stage(block: Buffer): Promise<void> {
    while (this.#inflight.size >= this.#o.concurrency) await Promise.race(this.#inflight);
    if (this.failure !== undefined) throw this.failure;
    if (this.ids.length >= MAX_BLOCKS) {
      throw azureError('TooLarge', `object exceeds ${MAX_BLOCKS} blocks of ${this.#o.blockSize} bytes: pass its size or use a multipart upload`, this.#o.ctx);
    }
    const id = blockId(this.#prefix, this.ids.length);
    this.ids.push(id);
    const options = { abortSignal: this.#abort.signal, transactionalContentMD5: md5(block) };
    const done: Promise<void> = this.#blob.stageBlock(id, block, block.length, options).then(
      () => undefined,
      (err: unknown) => {
        // Once we aborted (a body error, the caller's signal), later failures are only echoes of it.
        if (!this.#abort.signal.aborted) this.failure ??= err;
        this.#abort.abort();
      },
    ).finally(() => this.#inflight.delete(done));
    this.#inflight.add(done);
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.#inflight]);
    if (this.failure !== undefined) throw this.failure;
  }
}

/** Cuts the incoming chunks into blocks of exactly `size` bytes (the last one shorter). */
class Blocks {
  #pending: Buffer[] = [];
  #bytes = 0;

  get bytes(): number {
    return this.#bytes;
  }

  push(chunk: Buffer): void {
    this.#pending.push(chunk);
    this.#bytes += chunk.length;
  }

  take(size: number): Buffer {
    const all = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending, this.#bytes);
    const block = all.subarray(0, size);
    const rest = all.subarray(size);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#bytes = rest.length;
    return block;
  }
}

/**
 * Uploads `body` to `blob` atomically (see the module comment). On failure or
 * abort the staged requests are cancelled and awaited, the body is destroyed,
 * and the first error is thrown (an SDK error, for the caller to map).
 */
export async function uploadBlocks(blob: BlockBlobClient, body: Readable, o: BlockUploadOptions): Promise<UploadResult> {
  const abort = new AbortController();
  const onAbort = () => abort.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted === true) abort.abort(o.signal.reason);
  addAbortSignal(abort.signal, body);
  const stager = new Stager(blob, o, abort);
  try {
    const blocks = new Blocks();
    let total = 0;
    for await (const chunk of body as AsyncIterable<unknown>) {
      const buf = toBuffer(chunk, o.ctx);
      total += buf.length;
      if (o.declaredSize !== undefined && total > o.declaredSize) throw sizeMismatch(`more than ${o.declaredSize}`, o);
      blocks.push(buf);
      while (blocks.bytes >= o.blockSize) await stager.stage(blocks.take(o.blockSize));
    }
    if (o.declaredSize !== undefined && total !== o.declaredSize) throw sizeMismatch(String(total), o);
    const common = { blobHTTPHeaders: o.headers, conditions: o.conditions, abortSignal: abort.signal };
    if (stager.ids.length === 0) {
      const data = blocks.take(blocks.bytes);
      const res = await blob.upload(data, data.length, { ...common, blobHTTPHeaders: { ...o.headers, blobContentMD5: md5(data) } });
      return { etag: res.etag, lastModified: res.lastModified, size: total };
    }
    if (blocks.bytes > 0) await stager.stage(blocks.take(blocks.bytes));
    await stager.settle();
    const res = await blob.commitBlockList(stager.ids, common);
    return { etag: res.etag, lastModified: res.lastModified, size: total };
  } catch (err) {
    abort.abort();
    await Promise.allSettled([stager.settle()]);
    body.destroy();
    // A failed block aborts the body read; report the block's error, not the abort it caused.
    throw stager.failure ?? err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}

function sizeMismatch(received: string, o: BlockUploadOptions): Error {
  return azureError('Corrupt', `received ${received} bytes, ${o.declaredSize} were declared`, o.ctx);
}
