/**
 * Low-level file operations of the local store: streaming a body to a temp
 * file, fsync, and the atomic rename/link that publishes it.
 */
import { link, lstat, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { constants as fsConstants, type BigIntStats } from 'node:fs';
import { addAbortSignal, type Readable } from 'node:stream';
import type { ObjectInfo } from '../../object-store.ts';
import { contentTypeFor } from '../../content-type.ts';
import { errnoCode, localError, type ErrorContext } from './fs-errors.ts';

/**
 * Flags for opening an object to read. O_NONBLOCK: a FIFO that replaced the
 * file must not block the open (a thread, or the event loop); the caller's
 * isFile check then refuses it.
 */
export const READ_OBJECT_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK;

/** Writes are batched to about this many bytes per syscall. */
const WRITE_BATCH = 1 << 20;

/** Options of {@link writeBody}. */
export interface WriteBodyOptions {
  readonly signal?: AbortSignal | undefined;
  /** Fails with `TooLarge` once more bytes than this arrive. */
  readonly limit: number;
  /** fsync before closing (skipped for multipart parts, which are not durable anyway). */
  readonly sync: boolean;
  readonly ctx: ErrorContext;
}

/**
 * Streams `body` into a new file at `path` (which must not exist) and returns
 * the number of bytes written. On failure the partial file is left for the
 * caller to remove; the body is destroyed when `signal` fires.
 */
export async function writeBody(path: string, body: Readable, options: WriteBodyOptions): Promise<number> {
  if (options.signal !== undefined) addAbortSignal(options.signal, body);
  const fh = await open(path, 'wx');
  try {
    const bytes = await copyInto(fh, body, options);
    if (options.sync) await fh.sync();
    return bytes;
  } finally {
    await fh.close();
  }
}

async function copyInto(fh: FileHandle, body: Readable, options: WriteBodyOptions): Promise<number> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  for await (const chunk of body as AsyncIterable<unknown>) {
    const buf = toBuffer(chunk, options.ctx);
    total += buf.length;
    if (total > options.limit) {
      body.destroy();
      throw localError('TooLarge', `object exceeds the ${options.limit} byte limit`, options.ctx);
    }
    pending.push(buf);
    pendingBytes += buf.length;
    if (pendingBytes >= WRITE_BATCH) {
      await writeAll(fh, pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pendingBytes > 0) await writeAll(fh, pending, pendingBytes);
  return total;
}

function toBuffer(chunk: unknown, ctx: ErrorContext): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw localError('Internal', 'body stream must yield bytes (Buffer, Uint8Array or string)', ctx);
}

async function writeAll(fh: FileHandle, chunks: readonly Buffer[], bytes: number): Promise<void> {
  const data = chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, bytes);
  let offset = 0;
  // A regular-file write may in theory be short; keep going until all is written.
  while (offset < data.length) {
    const { bytesWritten } = await fh.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

/** fsync of a file's data and metadata. */
export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a directory, which makes renames and new entries in it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some filesystems (and platforms) refuse fsync on directories; nothing more we can do there.
    const code = errnoCode(err);
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    await fh.close();
  }
}

/**
 * Publishes `tmp` at `dest`: `rename` (atomic replace), or with `exclusive` a
 * hard `link` that fails if anything exists at `dest`, so create-only writes are
 * race-free. Filesystems without hard links fall back to check-then-rename.
 */
export async function publish(tmp: string, dest: string, exclusive: boolean): Promise<void> {
  if (!exclusive) {
    await rename(tmp, dest);
    return;
  }
  try {
    await link(tmp, dest);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EPERM') throw err;
    if (await pathExists(dest)) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
    await rename(tmp, dest);
    return;
  }
  await rm(tmp, { force: true });
}

/** Whether anything (even a dangling symbolic link) exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** Cheap entity tag that changes whenever the file is rewritten (new inode) or touched. */
export function etagOf(st: BigIntStats): string {
  return `"${st.ino.toString(16)}-${st.size.toString(16)}-${st.mtimeNs.toString(16)}"`;
}

/** Object metadata from a file's stats. */
export function objectInfo(bucket: string, key: string, st: BigIntStats): ObjectInfo {
  return {
    bucket,
    key,
    size: Number(st.size),
    etag: etagOf(st),
    lastModified: new Date(Number(st.mtimeMs)),
    contentType: contentTypeFor(key),
  };
}
