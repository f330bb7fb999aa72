/**
 * Uploads to GCS through a resumable session. The SDK creates the session
 * (authentication, endpoint, preconditions); the bytes are sent by this module
 * with `fetch`, because the SDK's `createWriteStream` (7.22) does not abort
 * its HTTP request when destroyed (the request hangs until the server gives
 * up) and never authenticates uploads to a custom endpoint. Here a failing
 * source or an abort signal aborts the request, so the server
 * never sees a complete body and never creates the object; the session is
 * then cancelled (best effort).
 *
 * Default: one streaming PUT (`Content-Range: bytes 0-*\/*` when the size is
 * unknown, as the SDK sends it). With a chunk size: chunked uploads holding at
 * most about one chunk in memory, each chunk a request answered by 308.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { File } from '@google-cloud/storage';
import { gcsError, type GcsErrorContext } from './gcs-errors.ts';
import { GCS_MAX_OBJECT_SIZE, sizeOf, type GcsObjectMetadata } from './gcs-objects.ts';

/** How long a best-effort cleanup request may take. */
const CLEANUP_TIMEOUT_MS = 10_000;

/** One upload: where, what and how. */
export interface UploadRequest {
  /** The SDK file (bucket and name) the session is created for. */
  readonly file: File;
  readonly contentType: string;
  /** Declared size; a body of another length fails with `Corrupt` and stores nothing. */
  readonly size?: number | undefined;
  /** `0`: create only (the server answers 412 when the object exists). */
  readonly ifGenerationMatch?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Bytes per request (multiple of 256 KiB); undefined: one streaming request. */
  readonly chunkSize?: number | undefined;
  readonly ctx: GcsErrorContext;
}

/** An HTTP error answer of the upload API, shaped like the SDK's `ApiError`. */
export class UploadHttpError extends Error {
  readonly code: number;
  readonly errors: readonly { readonly reason?: string; readonly message?: string }[];

  constructor(status: number, message: string, errors: readonly { reason?: string; message?: string }[]) {
    super(message);
    this.name = 'UploadHttpError';
    this.code = status;
    this.errors = errors;
  }
}

/** Counts and hashes the body as it streams, enforcing the size limits. */
class Meter {
  bytes = 0;
  /** Why the body failed, if it did: fetch reports it only as the cause of "fetch failed". */
  failure: unknown;
  readonly declared: number | undefined;
  readonly ctx: GcsErrorContext;
  readonly #md5 = createHash('md5');

  constructor(declared: number | undefined, ctx: GcsErrorContext) {
    this.declared = declared;
    this.ctx = ctx;
  }

  /** Yields `body`; a failure (the source's or a size check's) is also kept in {@link failure}. */
  async *pass(body: Readable): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        this.bytes += buf.length;
        if (this.bytes > (this.declared ?? GCS_MAX_OBJECT_SIZE)) {
          const kind = this.declared === undefined ? 'TooLarge' : 'Corrupt';
          throw gcsError(kind, `body exceeds ${this.declared ?? GCS_MAX_OBJECT_SIZE} bytes`, this.ctx);
        }
        this.#md5.update(buf);
        yield buf;
      }
      // Throwing before the body ends aborts the request: a short body never becomes an object.
      if (this.declared !== undefined && this.bytes !== this.declared) {
        throw gcsError('Corrupt', `received ${this.bytes} bytes, ${this.declared} were declared`, this.ctx);
      }
    } catch (err) {
      this.failure = err;
      throw err;
    }
  }

  md5(): string {
    return this.#md5.digest('base64');
  }
}

/** Uploads `body` as the object of `req.file`; returns the object resource. */
export async function uploadObject(req: UploadRequest, body: Readable): Promise<GcsObjectMetadata> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(req.signal?.reason);
  req.signal?.addEventListener('abort', onAbort, { once: true });
  const meter = new Meter(req.size, req.ctx);
  let session: string | undefined;
  try {
    session = await createSession(req);
    req.signal?.throwIfAborted();
    const source = meter.pass(body);
    const send = { uri: session, signal: controller.signal, ctx: req.ctx };
    const meta = req.chunkSize === undefined
      ? await sendWhole(send, source, req.size)
      : await sendChunked(send, source, req.chunkSize, req.file);
    await verify(req, meta, meter);
    return meta;
  } catch (err) {
    controller.abort();
    body.destroy();
    if (session !== undefined) await cancelSession(session);
    // An abort also breaks the body and the request; report the abort, not its side effects.
    if (req.signal?.aborted === true) throw gcsError('Internal', `${req.ctx.bucket ?? '?'}/${req.ctx.key ?? '?'}: operation aborted`, req.ctx, req.signal.reason);
    throw meter.failure ?? err;
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
  }
}

async function createSession(req: UploadRequest): Promise<string> {
  const metadata: Record<string, unknown> = { contentType: req.contentType };
  // Sent as X-Upload-Content-Length: the server then refuses to finalise any other length.
  if (req.size !== undefined) metadata['contentLength'] = req.size;
  const options = req.ifGenerationMatch === undefined
    ? { metadata }
    : { metadata, preconditionOpts: { ifGenerationMatch: req.ifGenerationMatch } };
  const [uri] = await req.file.createResumableUpload(options);
  return uri;
}

interface Send {
  readonly uri: string;
  readonly signal: AbortSignal;
  readonly ctx: GcsErrorContext;
}

async function sendWhole(send: Send, source: AsyncGenerator<Buffer>, size: number | undefined): Promise<GcsObjectMetadata> {
  const range = size === undefined ? 'bytes 0-*/*' : size === 0 ? 'bytes */0' : `bytes 0-${size - 1}/${size}`;
  const res = await put(send, range, ReadableStream.from(source));
  if (res.status === 200 || res.status === 201) return (await res.json()) as GcsObjectMetadata;
  if (res.status === 308) throw gcsError('Unavailable', 'the server did not complete the upload (HTTP 308)', send.ctx);
  throw await httpError(res);
}

/** Sends chunks of exactly `chunkSize` while more data follows, then the rest as the final request. */
async function sendChunked(send: Send, source: AsyncGenerator<Buffer>, chunkSize: number, file: File): Promise<GcsObjectMetadata> {
  const pending = new ChunkBuffer();
  let offset = 0;
  for await (const chunk of source) {
    pending.push(chunk);
    // Strictly more than a chunk: the final request must carry at least one byte.
    while (pending.length > chunkSize) {
      await sendChunk(send, pending.take(chunkSize), offset, undefined, file);
      offset += chunkSize;
    }
  }
  const rest = pending.take(pending.length);
  const meta = await sendChunk(send, rest, offset, offset + rest.length, file);
  if (meta === undefined) throw gcsError('Unavailable', 'the server did not complete the upload (HTTP 308)', send.ctx);
  return meta;
}

/**
 * Sends `data` at `offset`; `total` marks the final chunk. A 308 reports what
 * the server persisted (it may keep less than sent): the rest is sent again.
 */
async function sendChunk(send: Send, data: Buffer, offset: number, total: number | undefined, file: File): Promise<GcsObjectMetadata | undefined> {
  let sent = 0;
  for (let stalls = 0; stalls < 3;) {
    const part = data.subarray(sent);
    const range = part.length === 0 ? `bytes */${total ?? '*'}` : `bytes ${offset + sent}-${offset + data.length - 1}/${total ?? '*'}`;
    const res = await put(send, range, part);
    if (res.status === 200 || res.status === 201) {
      const meta = (await res.json()) as GcsObjectMetadata;
      if (total === undefined) await finalisedEarly(send, file, meta, offset + data.length);
      return meta;
    }
    if (res.status !== 308) throw await httpError(res);
    await res.body?.cancel();
    const persisted = persistedBytes(res.headers.get('range'));
    if (persisted < offset + sent || persisted > offset + data.length) {
      throw gcsError('Unavailable', `the server reports ${persisted} bytes persisted, expected ${offset + data.length}`, send.ctx);
    }
    stalls = persisted === offset + sent ? stalls + 1 : 0;
    sent = persisted - offset;
    if (sent === data.length && total === undefined) return undefined;
  }
  throw gcsError('Unavailable', `the server persists no more bytes at offset ${offset + sent}`, send.ctx);
}

/** A server that finalises on a non-final chunk stored a partial object: remove it and fail. */
async function finalisedEarly(send: Send, file: File, meta: GcsObjectMetadata, sentBytes: number): Promise<never> {
  if (meta.generation !== undefined) {
    await file.delete({ ifGenerationMatch: meta.generation }).catch(() => undefined);
  }
  throw gcsError('Corrupt', `the server completed the upload after ${sentBytes} bytes, before the last chunk`, send.ctx);
}

/** `Range: bytes=0-N` of a 308 answer → N + 1; no header → nothing persisted. */
export function persistedBytes(header: string | null): number {
  const match = header === null ? null : /^bytes=0-(\d+)$/u.exec(header.trim());
  return match?.[1] === undefined ? 0 : Number(match[1]) + 1;
}

function put(send: Send, range: string, body: Buffer | ReadableStream<Uint8Array>): Promise<Response> {
  // `duplex` is required for a streaming body and missing from the DOM typings.
  const init = { method: 'PUT', headers: { 'content-range': range }, body, duplex: 'half', signal: send.signal };
  return fetch(send.uri, init as RequestInit);
}

async function httpError(res: Response): Promise<UploadHttpError> {
  const body = await res.text().catch(() => '');
  let message = `HTTP ${res.status}`;
  let errors: { reason?: string; message?: string }[] = [];
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string; errors?: typeof errors } };
    message = parsed.error?.message ?? message;
    errors = parsed.error?.errors ?? [];
  } catch {
    if (body.trim() !== '') message = body.trim().slice(0, 200);
  }
  return new UploadHttpError(res.status, message, errors);
}

/** Size and MD5 of the stored object must match what was sent. */
async function verify(req: UploadRequest, meta: GcsObjectMetadata, meter: Meter): Promise<void> {
  const size = sizeOf(meta, req.ctx);
  const md5 = meter.md5();
  const problem = size !== meter.bytes
    ? `the server stored ${size} bytes, ${meter.bytes} were sent`
    : meta.md5Hash !== undefined && meta.md5Hash !== md5 ? 'the stored MD5 differs from the bytes sent' : undefined;
  if (problem === undefined) return;
  if (meta.generation !== undefined) await req.file.delete({ ifGenerationMatch: meta.generation }).catch(() => undefined);
  throw gcsError('Corrupt', problem, req.ctx);
}

/** Cancels a resumable session (GCS answers 499); failures are irrelevant. */
async function cancelSession(uri: string): Promise<void> {
  try {
    const res = await fetch(uri, { method: 'DELETE', signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) });
    await res.body?.cancel();
  } catch {
    // The session expires on its own; nothing was stored.
  }
}

/** Bytes received but not yet sent, taken in exact sizes. */
class ChunkBuffer {
  #chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? (this.#chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(this.#chunks);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length === 0 ? [] : [rest];
    this.length = rest.length;
    return head;
  }
}
