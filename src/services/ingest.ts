import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors.ts';
import type { Blob, Catalog, JsonObject } from '../catalog/types.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { sniffMime } from '../media/sniff.ts';
import { probeImage } from '../media/image-probe.ts';
import { probeVideo } from '../media/video-probe.ts';

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
}

/** What the upload stream looked like once it was all on disk. */
interface Spooled {
  path: string;
  size: number;
  hex: string;
  hash: string;
  head: Buffer;
}

const HEAD_BYTES = 4096;

/**
 * Content-addressed uploads: spools a stream to disk (hashing on the way),
 * checks what it is from its bytes, probes it, and stores it once under
 * `<kind>s/original/<hex[0:2]>/<hex[2:4]>/<sha256 hex>.<ext>`.
 */
export class Ingestor {
  readonly #o: IngestOptions;

  constructor(options: IngestOptions) {
    this.#o = options;
  }

  /** Stores `body` as an image or a video; the same bytes are stored once. */
  async ingest(body: Readable, kind: 'image' | 'video'): Promise<Blob> {
    const spooled = await this.#spool(body);
    try {
      const existing = await this.#o.catalog.blobs.get(spooled.hash);
      if (existing !== undefined && (await this.#o.store.exists(existing.bucket, existing.key))) return existing;
      const { mime, ext, info } = await describe(spooled, kind);
      const key = `${kind}s/original/${spooled.hex.slice(0, 2)}/${spooled.hex.slice(2, 4)}/${spooled.hex}.${ext}`;
      await this.#o.store.putFile(this.#o.bucket, key, spooled.path, { contentType: mime, size: spooled.size });
      return await this.#o.catalog.blobs.put({ hash: spooled.hash, kind, bucket: this.#o.bucket, key, size: spooled.size, mime, info });
    } finally {
      await rm(spooled.path, { force: true });
    }
  }

  async #spool(body: Readable): Promise<Spooled> {
    await mkdir(this.#o.tmpDir, { recursive: true });
    const path = join(this.#o.tmpDir, `upload-${randomUUID()}`);
    const sha = createHash('sha256');
    const headParts: Buffer[] = [];
    let size = 0;
    let headSize = 0;
    const max = this.#o.maxBytes;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > max) return done(new AppError('PayloadTooLarge', `file is larger than the limit of ${max} bytes (MAX_UPLOAD_SIZE)`));
        sha.update(chunk);
        if (headSize < HEAD_BYTES) { headParts.push(chunk); headSize += chunk.length; }
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, tap, createWriteStream(path, { flags: 'wx' }));
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    const digest = sha.digest();
    return { path, size, hex: digest.toString('hex'), hash: digest.toString('base64'), head: Buffer.concat(headParts).subarray(0, HEAD_BYTES) };
  }
}

async function describe(s: Spooled, kind: 'image' | 'video'): Promise<{ mime: string; ext: string; info: JsonObject }> {
  const sniffed = sniffMime(s.head);
  if (s.size === 0) throw new AppError('Unprocessable', `empty file is not a valid ${kind}`);
  if (sniffed === undefined || sniffed.kind !== kind) {
    throw new AppError('UnsupportedMedia', `file is not a supported ${kind}${sniffed ? ` (looks like ${sniffed.mime})` : ''}`);
  }
  if (kind === 'image') {
    const p = await probeImage(s.path);
    return { mime: p.mime, ext: p.ext, info: { width: p.width, height: p.height } };
  }
  const meta = await probeVideo(s.path);
  return { mime: meta.mime ?? sniffed.mime, ext: sniffed.ext, info: { ...meta } };
}
