import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppError } from '../errors.ts';
import type { Blob, Catalog, JsonObject } from '../catalog/types.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { sniffMime } from '../media/sniff.ts';
import { probeImage } from '../media/image-probe.ts';
import { probeVideo } from '../media/video-probe.ts';
import { receiveUpload, releaseReceived, type Received, type StagingTarget } from './ingest-receive.ts';

/** Options of {@link Ingestor}. */
export interface IngestOptions {
  catalog: Catalog;
  store: ObjectStore;
  /** Bucket for content-addressed originals (`<prefix>-public`). */
  bucket: string;
  /** Scratch folder on the same disk as DATA_PATH. */
  tmpDir: string;
  /** Largest accepted file. */
  maxBytes: number;
  /**
   * Images up to this size are received, probed and stored from memory
   * (no temporary file). Default {@link INGEST_MEMORY_BYTES}.
   */
  memoryBytes?: number | undefined;
  /**
   * Bucket for staging keys (`<prefix>-private`). When set, a large upload is
   * sent to the store while it is received, then copied server-side to its
   * content address: worth it for remote stores, not for the local disk.
   */
  stagingBucket?: string | undefined;
}

/** Default {@link IngestOptions.memoryBytes}: 8 MiB, i.e. at most 8 MiB per upload in flight. */
export const INGEST_MEMORY_BYTES = 8 * 1024 * 1024;

/** Prefix of staged uploads in the staging bucket; leftovers of a crash are swept by age. */
export const STAGING_PREFIX = 'tmp/ingest/';

const HEAD_BYTES = 4096;

/** Parts of one staged upload in flight: as many as lib-storage's default queue. */
const STAGING_CONCURRENCY = 4;

/** 8 MiB parts, larger when needed to fit `MAX_UPLOAD_SIZE` in S3's 10,000 parts. */
function stagingPartBytes(maxBytes: number): number {
  const MiB = 1024 * 1024;
  return Math.max(8 * MiB, Math.ceil(maxBytes / 10_000 / MiB) * MiB);
}

/**
 * Content-addressed uploads: receives a stream (hashing on the way), checks
 * what it is from its bytes, probes it, and stores it once under
 * `<kind>s/original/<hex[0:2]>/<hex[2:4]>/<sha256 hex>.<ext>`.
 */
export class Ingestor {
  readonly #o: IngestOptions;

  constructor(options: IngestOptions) {
    this.#o = options;
  }

  /** Stores `body` as an image or a video; the same bytes are stored once. */
  async ingest(body: Readable, kind: 'image' | 'video'): Promise<Blob> {
    return (await this.receive(body, kind)).stored;
  }

  /**
   * Reads `body` to its end, then stores it in the background: the caller can
   * read its next upload while this one is probed and sent to the store.
   * `stored` must be awaited (it carries the errors of that second half).
   */
  async receive(body: Readable, kind: 'image' | 'video'): Promise<{ stored: Promise<Blob> }> {
    const received = await receiveUpload(body, {
      maxBytes: this.#o.maxBytes,
      // ffprobe reads a file; a video is rarely small anyway.
      memoryBytes: kind === 'image' ? this.#o.memoryBytes ?? INGEST_MEMORY_BYTES : 0,
      tmpDir: this.#o.tmpDir,
      headBytes: HEAD_BYTES,
      staging: this.#stagingTarget(),
    });
    const stored = this.#store(received, kind).finally(async () => {
      await releaseReceived(received);
      if (received.staged !== undefined) await this.#o.store.delete(received.staged.bucket, received.staged.key).catch(() => undefined);
    });
    return { stored };
  }

  async #store(r: Received, kind: 'image' | 'video'): Promise<Blob> {
    const { catalog, store, bucket } = this.#o;
    const existing = await catalog.blobs.get(r.hash);
    if (existing !== undefined && (await store.exists(existing.bucket, existing.key))) return existing;
    const { mime, ext, info } = await describe(r, kind);
    const key = `${kind}s/original/${r.hex.slice(0, 2)}/${r.hex.slice(2, 4)}/${r.hex}.${ext}`;
    const options = { contentType: mime, size: r.size };
    if (r.buffer !== undefined) await store.put(bucket, key, Readable.from([r.buffer]), options);
    else if (r.staged !== undefined) await store.copy(r.staged.bucket, r.staged.key, bucket, key);
    else if (r.path !== undefined) await store.putFile(bucket, key, r.path, options);
    return await catalog.blobs.put({ hash: r.hash, kind, bucket, key, size: r.size, mime, info });
  }

  #stagingTarget(): StagingTarget | undefined {
    const { stagingBucket, store } = this.#o;
    if (stagingBucket === undefined) return undefined;
    return {
      store, bucket: stagingBucket, key: `${STAGING_PREFIX}${randomUUID()}`,
      contentType: (head) => sniffMime(head)?.mime ?? 'application/octet-stream',
      partBytes: stagingPartBytes(this.#o.maxBytes), concurrency: STAGING_CONCURRENCY,
    };
  }
}

async function describe(r: Received, kind: 'image' | 'video'): Promise<{ mime: string; ext: string; info: JsonObject }> {
  const sniffed = sniffMime(r.head);
  if (r.size === 0) throw new AppError('Unprocessable', `empty file is not a valid ${kind}`);
  if (sniffed === undefined || sniffed.kind !== kind) {
    throw new AppError('UnsupportedMedia', `file is not a supported ${kind}${sniffed ? ` (looks like ${sniffed.mime})` : ''}`);
  }
  const input = r.buffer ?? r.path;
  if (input === undefined) throw new Error('received upload has neither bytes nor a file');
  if (kind === 'image') {
    const p = await probeImage(input, { head: r.head });
    return { mime: p.mime, ext: p.ext, info: { width: p.width, height: p.height } };
  }
  if (typeof input !== 'string') throw new Error('videos are probed from a file');
  const meta = await probeVideo(input);
  return { mime: meta.mime ?? sniffed.mime, ext: sniffed.ext, info: { ...meta } };
}
