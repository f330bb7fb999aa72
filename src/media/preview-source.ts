/**
 * Originals of previews and conversions: where one is, what identifies its
 * bytes (for cache keys), and reading it for sharp: in memory when small,
 * spooled to a temp file when large, so memory per job stays bounded.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../storage/object-store.ts';
import type { ImageInput } from './convert-decode.ts';
import { SNIFF_HEAD_BYTES } from './sniff.ts';

/** One object in a store. */
export interface ObjectAt {
  store: ObjectStore;
  bucket: string;
  key: string;
}

/** What a cache key needs to know about a source's bytes. */
export interface SourceIdentity {
  /** Changes whenever the bytes may have changed. */
  id: string;
  /** The bytes can never change (content-addressed), so outputs may be cached by browsers for good. */
  immutable: boolean;
}

/**
 * How much of a local original is read ahead of decoding: enough for the
 * headers of nearly every JPEG (EXIF included), which then need no separate
 * header read by libvips (see jpeg-layout.ts).
 */
const LOCAL_HEAD_BYTES = 64 * 1024;

/** Originals larger than this are spooled to disk instead of held in memory. */
export const MEMORY_SOURCE_BYTES = 32 * 1024 * 1024;

// `<kind>s/original/<h[0:2]>/<h[2:4]>/<sha256>.<ext>`, as ingest writes them.
const CONTENT_ADDRESSED = /^(images|videos)\/original\/([0-9a-f]{2})\/([0-9a-f]{2})\/\2\3[0-9a-f]{60}\.[a-z0-9]+$/;

/**
 * The identity of an object: its path alone for content-addressed keys in
 * `ownStore` (their bytes never change), else path plus the store's ETag
 * (one HEAD; `NotFound` surfaces here).
 */
export async function objectIdentity(at: ObjectAt, ownStore: ObjectStore): Promise<SourceIdentity> {
  if (at.store === ownStore && CONTENT_ADDRESSED.test(at.key)) return { id: `${at.bucket}/${at.key}`, immutable: true };
  const info = await at.store.head(at.bucket, at.key);
  return { id: `${at.store.provider}:${at.bucket}/${at.key}#${info.etag}`, immutable: false };
}

/** The extension of a content-addressed key (what ingest sniffed), if it is one. */
export function contentAddressedExt(key: string): string | undefined {
  return CONTENT_ADDRESSED.test(key) ? key.slice(key.lastIndexOf('.') + 1) : undefined;
}

/** An original read for decoding; `cleanup` removes its spool file, if any. */
export interface LoadedInput extends ImageInput {
  cleanup(): Promise<void>;
}

/**
 * Makes an original readable for decoding. A store that keeps it as a plain
 * file hands sharp the file itself: copying a megabyte-sized original
 * through JavaScript costs a read per 64 KiB, a concatenation, and garbage
 * collections that the main thread pays for on every preview.
 */
export async function readOriginal(at: ObjectAt, tmpDir: string): Promise<LoadedInput> {
  if (at.store.localFile === undefined) return loadInput((await at.store.get(at.bucket, at.key)).body, tmpDir);
  const { path, head } = await at.store.localFile(at.bucket, at.key, { headBytes: LOCAL_HEAD_BYTES });
  return { data: path, head, cleanup: async () => undefined };
}

/**
 * Reads `body` whole: into memory up to {@link MEMORY_SOURCE_BYTES}, else
 * into a file under `tmpDir` (what was read so far is written first).
 */
export async function loadInput(body: Readable, tmpDir: string, memoryLimit = MEMORY_SOURCE_BYTES): Promise<LoadedInput> {
  const chunks: Buffer[] = [];
  let size = 0;
  const it = body[Symbol.asyncIterator]();
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const chunk = r.value as Buffer;
    chunks.push(chunk);
    size += chunk.length;
    if (size > memoryLimit) return spool(chunks, it, tmpDir);
  }
  const data = Buffer.concat(chunks);
  return { data, head: data.subarray(0, SNIFF_HEAD_BYTES), cleanup: async () => undefined };
}

async function spool(first: Buffer[], rest: AsyncIterator<unknown>, tmpDir: string): Promise<LoadedInput> {
  await mkdir(tmpDir, { recursive: true });
  const path = join(tmpDir, `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
  const head = Buffer.concat(first).subarray(0, SNIFF_HEAD_BYTES);
  async function* all(): AsyncGenerator<Buffer> {
    yield* first;
    for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value as Buffer;
  }
  try {
    await pipeline(all(), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  } catch (err) {
    await rest.return?.();
    await rm(path, { force: true });
    throw err;
  }
  return { data: path, head: Buffer.from(head), cleanup: () => rm(path, { force: true }) };
}
