/**
 * Uploads to GCS, choosing how by size:
 * - up to the store's `simpleUploadMaxSize` (declared, or found by reading at
 *   most that much of a body of unknown size): one multipart request, the
 *   body in memory (gcs-simple-upload.ts);
 * - anything larger: a resumable session (gcs-resumable.ts), the body streamed
 *   in one request, or in chunks when the store has a chunk size.
 *
 * Not the SDK's `createWriteStream` (7.22): it does not abort its HTTP request
 * when destroyed (the request hangs until the server gives up) and never
 * authenticates uploads to a custom endpoint. Here a failing source or an
 * abort signal aborts the request, so the server never sees a complete body
 * and never creates the object; a session is then cancelled (best effort).
 * Memory held per upload: up to `simpleUploadMaxSize` while a body of unknown
 * size is read to choose, then about one chunk of the source (or one upload chunk).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { File } from '@google-cloud/storage';
import { gcsError, type GcsErrorContext } from './gcs-errors.ts';
import { GCS_MAX_OBJECT_SIZE, sizeOf, type GcsObjectMetadata } from './gcs-objects.ts';
import { cancelSession, createSession, sendChunked, sendWhole, type Send } from './gcs-resumable.ts';
import { uploadSimple } from './gcs-simple-upload.ts';

/** One upload: where, what and how. */
export interface UploadRequest {
  /** The SDK file (bucket and name) the upload is for. */
  readonly file: File;
  readonly contentType: string;
  /** Declared size; a body of another length fails with `Corrupt` and stores nothing. */
  readonly size?: number | undefined;
  /** `0`: create only (the server answers 412 when the object exists). */
  readonly ifGenerationMatch?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Bytes per request of a resumable upload (multiple of 256 KiB); undefined: one streaming request. */
  readonly chunkSize?: number | undefined;
  /** Largest body sent in one multipart request (held in memory); 0: always resumable. */
  readonly simpleMaxSize: number;
  readonly ctx: GcsErrorContext;
}

/** Counts and hashes the body as it streams, enforcing the size limits. */
class Meter {
  bytes = 0;
  /** Why the body failed, if it did: requests report it only as their own failure's cause. */
  failure: unknown;
  readonly declared: number | undefined;
  readonly ctx: GcsErrorContext;
  readonly #md5 = createHash('md5');
  #digest: string | undefined;

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

  /** Base64 MD5 of everything passed; only once the body has ended. */
  md5(): string {
    this.#digest ??= this.#md5.digest('base64');
    return this.#digest;
  }
}

/** Uploads `body` as the object of `req.file`; returns the object resource. */
export async function uploadObject(req: UploadRequest, body: Readable): Promise<GcsObjectMetadata> {
  const controller = new AbortController();
  const onAbort = (): void => {
    controller.abort(req.signal?.reason);
    // While the body is only being read (small uploads), nothing else would stop it.
    body.destroy();
  };
  req.signal?.addEventListener('abort', onAbort, { once: true });
  const meter = new Meter(req.size, req.ctx);
  const session: { uri?: string } = {};
  try {
    req.signal?.throwIfAborted();
    const meta = await send(req, meter.pass(body), meter, controller.signal, session);
    await verify(req, meta, meter);
    return meta;
  } catch (err) {
    controller.abort();
    body.destroy();
    if (session.uri !== undefined) await cancelSession(session.uri);
    // An abort also breaks the body and the request; report the abort, not its side effects.
    if (req.signal?.aborted === true) throw gcsError('Internal', `${req.ctx.bucket ?? '?'}/${req.ctx.key ?? '?'}: operation aborted`, req.ctx, req.signal.reason);
    throw meter.failure ?? err;
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
  }
}

/** Sends the metered `source` one way or the other; `session` gets the URI of a resumable one. */
async function send(
  req: UploadRequest, source: AsyncGenerator<Buffer>, meter: Meter, signal: AbortSignal, session: { uri?: string },
): Promise<GcsObjectMetadata> {
  const small = req.simpleMaxSize > 0 && (req.size === undefined || req.size <= req.simpleMaxSize);
  const head = small ? await readUpTo(source, req.simpleMaxSize) : { chunks: [], ended: false };
  if (head.ended) return uploadSimple({ ...req, md5: meter.md5(), signal }, takeAll(head.chunks));
  session.uri = await createSession(req);
  signal.throwIfAborted();
  const rest = prepend(head.chunks, source);
  const to: Send = { uri: session.uri, signal, ctx: req.ctx };
  return req.chunkSize === undefined ? sendWhole(to, rest, req.size) : sendChunked(to, rest, req.chunkSize, req.file);
}

/** Reads `source` until it ends (`ended`) or more than `limit` bytes came. */
async function readUpTo(source: AsyncGenerator<Buffer>, limit: number): Promise<{ chunks: Buffer[]; ended: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  while (bytes <= limit) {
    const next = await source.next();
    if (next.done === true) return { chunks, ended: true };
    chunks.push(next.value);
    bytes += next.value.length;
  }
  return { chunks, ended: false };
}

/** The bytes of `chunks` as one Buffer; `chunks` is emptied, so that only the result stays referenced. */
function takeAll(chunks: Buffer[]): Buffer {
  const taken = chunks.splice(0);
  return taken.length === 1 ? (taken[0] as Buffer) : Buffer.concat(taken);
}

/** `head`, then `rest`; `head` is emptied as it goes, so its memory is not held for the whole upload. */
async function* prepend(head: Buffer[], rest: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  for (let chunk = head.shift(); chunk !== undefined; chunk = head.shift()) yield chunk;
  yield* rest;
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
