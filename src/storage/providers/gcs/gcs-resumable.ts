/**
 * The resumable-upload protocol: session creation (by the SDK: authentication,
 * endpoint, preconditions), the body as one streaming PUT or as chunks, and
 * cancellation. The session URI authenticates the requests that follow it.
 *
 * One streaming PUT (`Content-Range: bytes 0-*\/*` when the size is unknown,
 * as the SDK sends it) is the default: it works against every server,
 * including the firebase-tools emulator, which finalises a session on its
 * first PUT whatever its Content-Range. Chunks (each a request answered by
 * 308) are for proxies that limit request sizes.
 */
import type { File } from '@google-cloud/storage';
import { gcsError, type GcsErrorContext } from './gcs-errors.ts';
import { httpError, httpSend, type HttpAnswer } from './gcs-http.ts';
import type { GcsObjectMetadata } from './gcs-objects.ts';

/** How long a best-effort cleanup request may take. */
const CLEANUP_TIMEOUT_MS = 10_000;

/** Where the bytes of a session go. */
export interface Send {
  readonly uri: string;
  readonly signal: AbortSignal;
  readonly ctx: GcsErrorContext;
}

/** What the session is created for. */
export interface SessionRequest {
  readonly file: File;
  readonly contentType: string;
  readonly size?: number | undefined;
  readonly ifGenerationMatch?: number | undefined;
}

/** Creates a resumable session; returns its URI. */
export async function createSession(req: SessionRequest): Promise<string> {
  const metadata: Record<string, unknown> = { contentType: req.contentType };
  // Sent as X-Upload-Content-Length: the server then refuses to finalise any other length.
  if (req.size !== undefined) metadata['contentLength'] = req.size;
  const options = req.ifGenerationMatch === undefined
    ? { metadata }
    : { metadata, preconditionOpts: { ifGenerationMatch: req.ifGenerationMatch } };
  const [uri] = await req.file.createResumableUpload(options);
  return uri;
}

/** Sends the whole body as one request. */
export async function sendWhole(send: Send, source: AsyncIterable<Buffer>, size: number | undefined): Promise<GcsObjectMetadata> {
  const range = size === undefined ? 'bytes 0-*/*' : size === 0 ? 'bytes */0' : `bytes 0-${size - 1}/${size}`;
  // No content type: the emulator would then buffer the body with a 130 MB limit.
  const headers: Record<string, string> = { 'content-range': range };
  if (size !== undefined) headers['content-length'] = String(size);
  const res = await httpSend('PUT', send.uri, headers, source, send.signal);
  if (res.status === 200 || res.status === 201) return parseJson(res, send.ctx);
  if (res.status === 308) throw gcsError('Unavailable', 'the server did not complete the upload (HTTP 308)', send.ctx);
  throw httpError(res.status, res.body);
}

function parseJson(res: HttpAnswer, ctx: GcsErrorContext): GcsObjectMetadata {
  try {
    return JSON.parse(res.body) as GcsObjectMetadata;
  } catch {
    throw gcsError('Internal', `${ctx.bucket ?? '?'}/${ctx.key ?? '?'}: the server answered the upload with no object resource`, ctx);
  }
}

/** Sends chunks of exactly `chunkSize` while more data follows, then the rest as the final request. */
export async function sendChunked(send: Send, source: AsyncIterable<Buffer>, chunkSize: number, file: File): Promise<GcsObjectMetadata> {
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
    const res = await httpSend('PUT', send.uri, { 'content-range': range }, [part], send.signal);
    if (res.status === 200 || res.status === 201) {
      const meta = parseJson(res, send.ctx);
      if (total === undefined) await finalisedEarly(send, file, meta, offset + data.length);
      return meta;
    }
    if (res.status !== 308) throw httpError(res.status, res.body);
    const persisted = persistedBytes(res.headers.range);
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
export function persistedBytes(header: string | undefined): number {
  const match = header === undefined ? null : /^bytes=0-(\d+)$/u.exec(header.trim());
  return match?.[1] === undefined ? 0 : Number(match[1]) + 1;
}

/** Cancels a resumable session (GCS answers 499); failures are irrelevant. */
export async function cancelSession(uri: string): Promise<void> {
  try {
    await httpSend('DELETE', uri, {}, [], AbortSignal.timeout(CLEANUP_TIMEOUT_MS));
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
    // A copy of the (small) rest, so that the head's memory goes with its request.
    const rest = Buffer.from(all.subarray(n));
    this.#chunks = rest.length === 0 ? [] : [rest];
    this.length = rest.length;
    return all.subarray(0, n);
  }
}
