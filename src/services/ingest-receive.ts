/**
 * Receiving an upload: hashes it as it arrives and keeps it in memory while it
 * is small. A larger one is spooled to a temporary file (the probes need a
 * file) and, when the store is remote, uploaded at the same time, part by
 * part from that file, to a staging key: the provider upload overlaps the
 * receive instead of following it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.ts';
import type { MultipartUpload, ObjectStore, PartInfo } from '../storage/object-store.ts';

/** Where a staged upload goes: a bucket of the store and a fresh key. */
export interface StagingTarget {
  readonly store: ObjectStore;
  readonly bucket: string;
  readonly key: string;
  /** Content type for the staged object (a server-side copy keeps it). */
  readonly contentType: (head: Buffer) => string;
  /** Bytes per part (the last may be smaller); at least the store's minimum (5 MiB on S3). */
  readonly partBytes: number;
  /** Parts uploaded at once. */
  readonly concurrency: number;
}

/** Limits and places of {@link receiveUpload}. */
export interface ReceiveOptions {
  /** Largest accepted upload (`MAX_UPLOAD_SIZE`). */
  readonly maxBytes: number;
  /** Uploads up to this size stay in memory; 0 spools everything. */
  readonly memoryBytes: number;
  /** Folder for spooled uploads. */
  readonly tmpDir: string;
  /** Bytes of the head kept for sniffing. */
  readonly headBytes: number;
  /** Also upload a spooled body here while it arrives. */
  readonly staging?: StagingTarget | undefined;
}

/** A received upload: in `buffer`, or in the file at `path` (and maybe staged). */
export interface Received {
  readonly size: number;
  /** sha256, hex. */
  readonly hex: string;
  /** sha256, base64 (the platform's `hash`). */
  readonly hash: string;
  readonly head: Buffer;
  readonly buffer?: Buffer | undefined;
  readonly path?: string | undefined;
  /** The staged copy in the store, complete. */
  readonly staged?: { readonly bucket: string; readonly key: string } | undefined;
}

/** Writes ≥ this many bytes at once: one syscall per network chunk costs more than the copy. */
const WRITE_BATCH = 1024 * 1024;

/** Receives `body`; on failure nothing is left behind (file removed, staging aborted and deleted). */
export async function receiveUpload(body: Readable, o: ReceiveOptions): Promise<Received> {
  const sha = createHash('sha256');
  const held: Buffer[] = [];
  let size = 0;
  let sink: Sink | undefined;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > o.maxBytes) throw new AppError('PayloadTooLarge', `file is larger than the limit of ${o.maxBytes} bytes (MAX_UPLOAD_SIZE)`);
      sha.update(chunk);
      if (sink !== undefined) await sink.write(chunk);
      else {
        held.push(chunk);
        if (size > o.memoryBytes) sink = await Sink.open(o, held.splice(0), size);
      }
    }
    const digest = sha.digest();
    const common = { size, hex: digest.toString('hex'), hash: digest.toString('base64') };
    if (sink === undefined) {
      const buffer = Buffer.concat(held, size);
      return { ...common, buffer, head: buffer.subarray(0, o.headBytes) };
    }
    return { ...common, ...(await sink.finish()) };
  } catch (err) {
    await sink?.discard();
    throw err;
  }
}

/** Removes what a {@link Received} left on disk (the staged object is the caller's). */
export async function releaseReceived(r: Received): Promise<void> {
  if (r.path !== undefined) await rm(r.path, { force: true });
}

/** The spool file and the optional staging upload of one large body. */
class Sink {
  readonly #path: string;
  readonly #file: FileHandle;
  readonly #head: Buffer;
  readonly #staging: Staging | undefined;
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #onDisk = 0;

  private constructor(path: string, file: FileHandle, head: Buffer, staging: Staging | undefined) {
    this.#path = path;
    this.#file = file;
    this.#head = head;
    this.#staging = staging;
  }

  static async open(o: ReceiveOptions, first: Buffer[], firstBytes: number): Promise<Sink> {
    await mkdir(o.tmpDir, { recursive: true });
    const path = join(o.tmpDir, `upload-${randomUUID()}`);
    const file = await open(path, 'wx');
    const head = Buffer.concat(first, firstBytes).subarray(0, o.headBytes);
    const sink = new Sink(path, file, Buffer.from(head), o.staging && new Staging(o.staging, path, head));
    try {
      for (const chunk of first) await sink.write(chunk);
    } catch (err) {
      await sink.discard();
      throw err;
    }
    return sink;
  }

  async write(chunk: Buffer): Promise<void> {
    this.#batch.push(chunk);
    this.#batchBytes += chunk.length;
    if (this.#batchBytes >= WRITE_BATCH) await this.#flush();
  }

  async finish(): Promise<{ path: string; head: Buffer; staged?: { bucket: string; key: string } }> {
    await this.#flush();
    await this.#file.close();
    if (this.#staging === undefined) return { path: this.#path, head: this.#head };
    await this.#staging.end(this.#onDisk);
    return { path: this.#path, head: this.#head, staged: this.#staging.where };
  }

  async discard(): Promise<void> {
    await this.#file.close().catch(() => undefined);
    await rm(this.#path, { force: true });
    await this.#staging?.discard();
  }

  async #flush(): Promise<void> {
    if (this.#batchBytes === 0) return;
    const batch = this.#batch;
    this.#onDisk += this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    await this.#file.writev(batch);
    await this.#staging?.advance(this.#onDisk);
  }
}

/**
 * A multipart upload to the staging key whose parts are read back from the
 * spool file as soon as it holds them: the provider upload overlaps the
 * receive, and memory stays at a few stream buffers (parts stream from disk,
 * which the page cache still holds) instead of parts held in memory.
 */
class Staging {
  readonly where: { bucket: string; key: string };
  readonly #t: StagingTarget;
  readonly #path: string;
  readonly #upload: Promise<MultipartUpload>;
  readonly #parts: (PartInfo | undefined)[] = [];
  readonly #inflight = new Set<Promise<void>>();
  #sent = 0;
  #failure: unknown;

  constructor(t: StagingTarget, path: string, head: Buffer) {
    this.where = { bucket: t.bucket, key: t.key };
    this.#t = t;
    this.#path = path;
    this.#upload = t.store.createMultipart(t.bucket, t.key, { contentType: t.contentType(head) });
    // Remembered, not thrown here: the receive loop notices it at its next part or at the end.
    this.#upload.catch((err: unknown) => this.#fail(err));
  }

  /** The spool file now holds `onDisk` bytes: sends every full part not sent yet. */
  async advance(onDisk: number): Promise<void> {
    while (onDisk - this.#sent >= this.#t.partBytes) await this.#send(this.#t.partBytes);
  }

  /** Sends the rest (`total` bytes in all) and completes the staged object. */
  async end(total: number): Promise<void> {
    await this.advance(total);
    if (total > this.#sent) await this.#send(total - this.#sent);
    await Promise.all(this.#inflight);
    if (this.#failure !== undefined) throw this.#failure;
    await (await this.#upload).complete(this.#parts as PartInfo[]);
  }

  async discard(): Promise<void> {
    await Promise.all(this.#inflight);
    const upload = await this.#upload.catch(() => undefined);
    await upload?.abort().catch(() => undefined);
    await this.#t.store.delete(this.where.bucket, this.where.key).catch(() => undefined);
  }

  async #send(size: number): Promise<void> {
    while (this.#inflight.size >= this.#t.concurrency && this.#failure === undefined) await Promise.race(this.#inflight);
    if (this.#failure !== undefined) throw this.#failure;
    const index = this.#parts.length;
    const start = this.#sent;
    this.#sent += size;
    this.#parts.push(undefined);
    const task = this.#upload
      .then((u) => u.uploadPart(index + 1, createReadStream(this.#path, { start, end: start + size - 1 }), size))
      .then((part) => { this.#parts[index] = part; }, (err: unknown) => this.#fail(err))
      .finally(() => this.#inflight.delete(task));
    this.#inflight.add(task);
  }

  #fail(err: unknown): void {
    this.#failure ??= err ?? new Error('staging upload failed');
  }
}
