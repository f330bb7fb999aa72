/**
 * HTTP plumbing of GCS uploads: the upload API's error answers, and requests
 * on `node:http(s)`.
 *
 * Upload bodies do not go through `fetch`: Node 24's fetch (undici) keeps
 * every chunk of a streamed request body alive until the request completes
 * (nodejs/undici#4058), so a 1 GiB upload held 1 GiB, and it copies a Buffer
 * body. `request` + `pipeline` holds only what the socket has not taken yet.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';

/**
 * Longest silence on the socket of an upload request, in ms: the same as fetch's
 * headers and body timeouts, so a server that stops answering fails the upload.
 * Finalising a large object can take the server a while after the last byte.
 */
const IDLE_TIMEOUT_MS = 300_000;

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

/** The error for an answer of `status` with body `body` (a JSON API error, or text). */
export function httpError(status: number, body: string): UploadHttpError {
  let message = `HTTP ${status}`;
  let errors: { reason?: string; message?: string }[] = [];
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string; errors?: typeof errors } };
    message = parsed.error?.message ?? message;
    errors = parsed.error?.errors ?? [];
  } catch {
    if (body.trim() !== '') message = body.trim().slice(0, 200);
  }
  return new UploadHttpError(status, message, errors);
}

/** A complete answer: status, headers and the (small) body. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Sends one request with `body` (Buffers in memory, or a stream of Buffers
 * sent as they come) and returns the whole answer. A failing source or
 * `signal` destroys the request, so the server never sees the end of the body.
 * An answer arriving before the body was sent (an error) ends the request there.
 */
export async function httpSend(
  method: string, uri: string, headers: Record<string, string>, body: readonly Buffer[] | AsyncIterable<Buffer>, signal: AbortSignal,
): Promise<HttpAnswer> {
  const url = new URL(uri);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const parts = Array.isArray(body) ? (body as readonly Buffer[]) : undefined;
  const length = parts === undefined ? {} : { 'content-length': String(parts.reduce((n, part) => n + part.length, 0)) };
  const req = send(url, { method, headers: { ...length, ...headers }, signal });
  req.setTimeout(IDLE_TIMEOUT_MS, () => {
    req.destroy(Object.assign(new Error(`no answer from ${url.host} for ${IDLE_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' }));
  });
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    // `on`, not `once`: an error event without a listener would crash the process.
    req.on('error', reject);
  });
  if (parts !== undefined) {
    // Written as they are: no copy of the body into one Buffer.
    for (const part of parts) req.write(part);
    req.end();
  } else {
    // Its failures reach `answered` too: pipeline destroys the request with them.
    pipeline(body as AsyncIterable<Buffer>, req).catch(() => undefined);
  }
  try {
    const res = await answered;
    return { status: res.statusCode ?? 0, headers: res.headers, body: await readText(res) };
  } finally {
    // Still sending after the answer: the server refused the body; never finish it.
    if (!req.writableFinished) req.destroy();
  }
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
