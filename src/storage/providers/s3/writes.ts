/**
 * The write paths of the S3 store: a stream of known small size goes up in one
 * streamed PutObject; anything else through lib-storage's `Upload` (parts
 * buffered, at most about `queueSize × partSize` bytes in memory); a local
 * file in one PutObject or as multipart parts read straight from disk.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { bodyStream, type ObjectInfo, type PartInfo, type PutOptions } from '../../object-store.ts';
import { s3Error, withSignal, type S3ErrorContext } from './errors.ts';
import { GuardedBody, sendGuarded } from './body.ts';
import { headObject, quoteEtag } from './info.ts';
import { assertAbsent, runLimited, type S3MultipartUpload } from './multipart.ts';
import { MAX_PARTS, type S3Tuning } from './options.ts';
import type { DirectPut } from './direct-put.ts';

/** 5 TiB, the S3 object size limit. */
export const S3_MAX_OBJECT_SIZE = 5 * 1024 ** 4;

/** What the write paths need from their store. */
export interface WriteCore {
  readonly client: S3Client;
  readonly tuning: S3Tuning;
  /** Direct PutObject for small bodies, where the endpoint allows it. */
  readonly directPut: DirectPut | undefined;
  /** Starts a multipart upload tracked by the store (aborted on close). */
  startMultipart(bucket: string, key: string, options: PutOptions, contentType: string): Promise<S3MultipartUpload>;
}

/** One write: where, how, and the error context. */
export interface WriteTarget {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly options: PutOptions;
  readonly ctx: S3ErrorContext;
}

/** `TooLarge` when a declared size exceeds S3's object size limit. */
export function checkDeclaredSize(size: number | undefined, ctx: S3ErrorContext): void {
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw s3Error('Corrupt', `declared size ${size} is not a byte count`, ctx);
  }
  if (size !== undefined && size > S3_MAX_OBJECT_SIZE) {
    throw s3Error('TooLarge', `object of ${size} bytes exceeds the ${S3_MAX_OBJECT_SIZE} byte limit`, ctx);
  }
}

/** Stores a stream of known or unknown length. */
export async function putStream(core: WriteCore, t: WriteTarget, body: Readable): Promise<ObjectInfo> {
  const { size, ifNoneMatch } = t.options;
  if (size !== undefined && size <= core.tuning.singlePutMax) return putSingle(core.client, t, body, size);
  // Fail fast instead of uploading parts for nothing; If-None-Match on completion stays the real guard.
  if (ifNoneMatch === true) await assertAbsent(core.client, t.bucket, t.key, t.ctx);
  return putWithUpload(core, t, body);
}

/** Stores bytes in memory: one PutObject with a buffer body (no stream to guard), or streamed when too large for one. */
export async function putBytes(core: WriteCore, t: WriteTarget, bytes: Uint8Array): Promise<ObjectInfo> {
  const size = bytes.length;
  if (t.options.size !== undefined && t.options.size !== size) {
    throw s3Error('Corrupt', `received ${size} bytes, ${t.options.size} were declared`, t.ctx);
  }
  if (size > core.tuning.singlePutMax) return putStream(core, t, bodyStream(bytes));
  if (core.directPut !== undefined) {
    const { bucket, key, contentType, options: { md5, ifNoneMatch, signal } } = t;
    return putResult(t, size, await core.directPut.put({ bucket, key, bytes, contentType, md5, ifNoneMatch, signal }));
  }
  const out = await core.client.send(new PutObjectCommand({
    Bucket: t.bucket,
    Key: t.key,
    Body: bytes,
    ContentLength: size,
    ContentType: t.contentType,
    ...(t.options.md5 === undefined ? {} : { ContentMD5: Buffer.from(t.options.md5, 'hex').toString('base64') }),
    ...(t.options.ifNoneMatch === true ? { IfNoneMatch: '*' } : {}),
  }), withSignal(t.options.signal));
  return putResult(t, size, out.ETag);
}

/** What a single PutObject stored. It answers with no date: the client's clock is close enough and saves a HEAD per upload. */
function putResult(t: WriteTarget, size: number, etag: string | undefined): ObjectInfo {
  return { bucket: t.bucket, key: t.key, size, etag: quoteEtag(etag), lastModified: new Date(), contentType: t.contentType };
}

async function putSingle(client: S3Client, t: WriteTarget, body: Readable, size: number): Promise<ObjectInfo> {
  const guarded = new GuardedBody(body, { expectedSize: size, maxSize: size, tooLarge: 'too large', signal: t.options.signal }, t.ctx);
  const out = await sendGuarded(guarded, (b, abortSignal) => client.send(new PutObjectCommand({
    Bucket: t.bucket,
    Key: t.key,
    Body: b,
    ContentLength: size,
    ContentType: t.contentType,
    ...(t.options.ifNoneMatch === true ? { IfNoneMatch: '*' } : {}),
  }), { abortSignal }));
  return putResult(t, size, out.ETag);
}

async function putWithUpload(core: WriteCore, t: WriteTarget, body: Readable): Promise<ObjectInfo> {
  const { size } = t.options;
  const partSize = size === undefined ? core.tuning.partSize : Math.max(core.tuning.partSize, Math.ceil(size / MAX_PARTS));
  const maxSize = Math.min(size ?? partSize * MAX_PARTS, S3_MAX_OBJECT_SIZE);
  const tooLarge = size === undefined
    ? `a stream of unknown length is limited to ${maxSize} bytes (${MAX_PARTS} parts of ${partSize}); pass its size`
    : `object exceeds the ${maxSize} byte limit`;
  const guarded = new GuardedBody(body, { expectedSize: size, maxSize, tooLarge, signal: t.options.signal }, t.ctx);
  const upload = new Upload({
    client: core.client,
    queueSize: core.tuning.queueSize,
    partSize,
    // On failure Upload aborts the multipart upload before done() rejects, so nothing is left behind.
    leavePartsOnError: false,
    params: {
      Bucket: t.bucket,
      Key: t.key,
      Body: guarded.body,
      ContentType: t.contentType,
      ...(size === undefined ? {} : { ContentLength: size }),
      ...(t.options.ifNoneMatch === true ? { IfNoneMatch: '*' } : {}),
    },
  });
  const out = await sendGuarded(guarded, () => upload.done());
  // radosgw completes multipart uploads with an empty ETag.
  if (out.ETag === undefined || out.ETag === '') return headObject(core.client, t.bucket, t.key, { ...t.ctx, op: 'read' });
  const info = { bucket: t.bucket, key: t.key, size: guarded.bytes, etag: quoteEtag(out.ETag) };
  return { ...info, lastModified: new Date(), contentType: t.contentType };
}

/** Size of the regular file handed to `putFile`; anything else is `NotFound`. */
export async function sourceSize(path: string, ctx: S3ErrorContext): Promise<number> {
  const st = await stat(path).catch(() => undefined);
  if (st === undefined || !st.isFile()) throw s3Error('NotFound', `source file ${path} not found or not a regular file`, ctx);
  return st.size;
}

/** Uploads a local file of `size` bytes; large files as parts read in parallel from disk. */
export async function putFileContents(core: WriteCore, t: WriteTarget, path: string, size: number): Promise<ObjectInfo> {
  if (size <= core.tuning.singlePutMax) return putSingle(core.client, t, createReadStream(path), size);
  if (t.options.ifNoneMatch === true) await assertAbsent(core.client, t.bucket, t.key, t.ctx);
  const partSize = Math.max(core.tuning.partSize, Math.ceil(size / MAX_PARTS));
  const upload = await core.startMultipart(t.bucket, t.key, t.options, t.contentType);
  try {
    const tasks = Array.from({ length: Math.ceil(size / partSize) }, (_, i) => (): Promise<PartInfo> => {
      const start = i * partSize;
      const end = Math.min(start + partSize, size);
      return upload.uploadPart(i + 1, createReadStream(path, { start, end: end - 1 }), end - start);
    });
    return await upload.complete(await runLimited(tasks, core.tuning.queueSize));
  } catch (err) {
    await upload.abort().catch(() => undefined);
    throw err;
  }
}
