/**
 * The image converter: a browser-displayable version of any original (TIFF,
 * BMP, 16-bit PNG/TIFF, AVIF → lossless 8-bit PNG; JPEG, 8-bit PNG, GIF and
 * WebP are served as they are) and video frames (→ JPEG), cached in the
 * converter cache. Originals are never modified.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import sharp, { type Sharp } from 'sharp';
import type { CacheEntryInfo, CachedEntry, FillResult } from '../cache/disk-cache.ts';
import { isStorageError } from '../storage/errors.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { openImage, undecodable } from './convert-decode.ts';
import type { WorkSlots } from './convert-slots.ts';
import { converterStoragePath, frameKey, type ConverterUrl } from './convert-url.ts';
import type { PathRoots } from './preview-paths.ts';
import { renderForDisplay } from './preview-render.ts';
import { contentAddressedExt, objectIdentity, readOriginal, type ObjectAt, type SourceIdentity } from './preview-source.ts';
import { sniffMime, SNIFF_HEAD_BYTES } from './sniff.ts';
import { extractVideoFrame } from './video-frame.ts';
import { withLoopbackUrl } from './video-frame-source.ts';

/** The part of a disk cache previews and conversions use. */
export interface MediaCache {
  getOrFill(key: string, fill: () => Promise<FillResult>): Promise<{ entry: CachedEntry; hit: boolean }>;
  /** A fresh entry's metadata, without counting or opening it. */
  peek(key: string): CacheEntryInfo | undefined;
  /** Counts a hit served from an in-memory copy; false when the entry is gone and the copy must not be served. */
  memoryHit(key: string, bytes: number): boolean;
}

/** What the converter and previews work with. */
export interface MediaContext {
  /** Primary storage (content-addressed keys there are immutable). */
  store: ObjectStore;
  /** Where a storage path (percent-encoded, no leading `/`) points; throws 400 for paths outside the buckets. */
  locate(storagePath: string): ObjectAt;
  roots: PathRoots;
  slots: WorkSlots;
  /** Spool folder for large originals and conversions. */
  tmpDir: string;
}

/** A cache entry to produce: its key, ETag (known up front) and how to fill it. */
export interface DerivedPlan {
  key: string;
  /** The SHA-256 (hex) the key and ETag are made of. */
  hash: string;
  etag: string;
  /** The source is content-addressed, so the output never changes. */
  immutable: boolean;
  fill(): Promise<FillResult>;
}

/** What a converter path resolves to. */
export type ConverterPlan =
  | { kind: 'original'; at: ObjectAt; identity: SourceIdentity }
  | ({ kind: 'converted' } & DerivedPlan);

/** Bump when outputs change for the same inputs, so old cache entries are not served. */
const CONVERTER_VERSION = 'c1';
const JPEG_FRAME_QUALITY = 90;
const BROWSER_SAFE_EXT = new Set(['jpg', 'gif', 'webp']);

/** Cache key and ETag of a derived output: a hash of everything that identifies it. */
export function derivedKey(...parts: string[]): { key: string; hash: string; etag: string } {
  const hash = createHash('sha256').update(parts.join('\n')).digest('hex');
  return { key: `${parts[0] ?? ''}-${hash}`, hash, etag: `"${hash.slice(0, 40)}"` };
}

/** Plans conversions; see the module comment. */
export class Converter {
  readonly #ctx: MediaContext;

  constructor(ctx: MediaContext) {
    this.#ctx = ctx;
  }

  /** Resolves a parsed converter path (source still percent-encoded) to the original or a cache entry to fill. */
  async plan(url: ConverterUrl): Promise<ConverterPlan> {
    const at = this.#ctx.locate(converterStoragePath(url.source, this.#ctx.roots, this.#ctx.roots.remoteRoot));
    const identity = await objectIdentity(at, this.#ctx.store);
    if (url.kind === 'image' && url.page === 0 && await browserSafe(at)) return { kind: 'original', at, identity };
    const spec = url.kind === 'image' ? `image;page=${url.page}` : `frame;${frameKey(url.frame)};stream=${url.streamIndex}`;
    const { key, hash, etag } = derivedKey(CONVERTER_VERSION, identity.id, spec);
    const fill = url.kind === 'image'
      ? () => this.#convertImage(at, url.page, etag)
      : () => this.#videoFrame(at, url, etag);
    return { kind: 'converted', key, hash, etag, immutable: identity.immutable, fill };
  }

  #convertImage(at: ObjectAt, page: number, etag: string): Promise<FillResult> {
    return this.#ctx.slots.run(async () => {
      const input = await readOriginal(at, this.#ctx.tmpDir);
      try {
        const img = await openImage(input, page);
        const out = await this.#toTempFile(renderForDisplay(img));
        return { ...out, contentType: 'image/png', etag };
      } finally {
        await input.cleanup();
      }
    });
  }

  /** Writes a pipeline to a temp file, so decode errors surface here as 422s, not mid-stream. */
  async #toTempFile(image: Sharp): Promise<{ body: Readable; size: number }> {
    await mkdir(this.#ctx.tmpDir, { recursive: true });
    const path = join(this.#ctx.tmpDir, `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}.out`);
    try {
      await image.toFile(path);
      const { size } = await stat(path);
      const body = createReadStream(path);
      body.once('close', () => void rm(path, { force: true }));
      return { body, size };
    } catch (err) {
      await rm(path, { force: true });
      throw undecodable(err);
    }
  }

  #videoFrame(at: ObjectAt, url: Extract<ConverterUrl, { kind: 'videoframe' }>, etag: string): Promise<FillResult> {
    return this.#ctx.slots.run(async () => {
      const { size } = await at.store.head(at.bucket, at.key);
      const png = await withLoopbackUrl(at, size, (u) => extractVideoFrame(u, url.frame, url.streamIndex));
      const jpeg = await sharp(png).jpeg({ quality: JPEG_FRAME_QUALITY }).toBuffer().catch((err: unknown) => { throw undecodable(err); });
      return { bytes: jpeg, contentType: 'image/jpeg', etag };
    });
  }
}

/**
 * Whether browsers show the original as it is: 8-bit JPEG, PNG, GIF or WebP.
 * Content-addressed keys carry the sniffed extension; other objects (and
 * PNGs, whose bit depth matters) have their first bytes read.
 */
async function browserSafe(at: ObjectAt): Promise<boolean> {
  const ext = contentAddressedExt(at.key);
  if (ext !== undefined && ext !== 'png') return BROWSER_SAFE_EXT.has(ext);
  let got;
  try {
    got = await at.store.get(at.bucket, at.key, { range: { start: 0, end: SNIFF_HEAD_BYTES - 1 } });
  } catch (err) {
    // An empty object has no range to read; the conversion then says it is not an image.
    if (isStorageError(err, 'InvalidRange')) return false;
    throw err;
  }
  const chunks: Buffer[] = [];
  for await (const c of got.body) chunks.push(c as Buffer);
  const head = Buffer.concat(chunks);
  const mime = sniffMime(head)?.mime;
  // PNG IHDR bit depth is byte 24; 16-bit needs a display window.
  if (mime === 'image/png') return head[24] !== undefined && head[24] <= 8;
  return mime === 'image/jpeg' || mime === 'image/gif' || mime === 'image/webp';
}
