/**
 * Request bodies handed to the SDK. The SDK pipes a stream body into the HTTP
 * request without listening for its errors (a failing source would crash the
 * process) and waits forever when a body ends short of its Content-Length, so
 * every caller stream goes through a {@link GuardedBody}: it counts bytes,
 * enforces the declared size and limits, and turns any failure into an abort
 * of the request, remembering the real reason.
 */
import { Readable } from 'node:stream';
import { s3Error, type S3ErrorContext } from './errors.ts';

/** Limits of one body. */
export interface BodyLimits {
  /** Exact size the body must have, when declared. */
  readonly expectedSize?: number | undefined;
  /** Largest acceptable size. */
  readonly maxSize: number;
  /** Message for exceeding `maxSize`. */
  readonly tooLarge: string;
  /** Caller's abort signal: destroys the source. */
  readonly signal?: AbortSignal | undefined;
}

/** A caller's stream wrapped for the SDK; see the module comment. */
export class GuardedBody {
  /** The stream to send. */
  readonly body: Readable;
  /** Aborts the request when the body fails or the caller aborts. */
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #source: Readable;
  readonly #callerSignal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.#fail(this.#callerSignal?.reason);
  #bytes = 0;
  #failure: unknown;

  constructor(source: Readable, limits: BodyLimits, ctx: S3ErrorContext) {
    this.#source = source;
    this.#callerSignal = limits.signal;
    this.body = Readable.from(this.#pump(limits, ctx), { objectMode: false });
    // Keeps a failure from becoming an unhandled 'error' event; the abort tells the SDK.
    this.body.on('error', (err: unknown) => this.#fail(err));
    this.signal = limits.signal === undefined ? this.#controller.signal : AbortSignal.any([this.#controller.signal, limits.signal]);
    limits.signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (limits.signal?.aborted === true) this.#onAbort();
  }

  /** Bytes read from the source so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Why the body failed (source error, size mismatch, caller abort), if it did. */
  get failure(): unknown {
    return this.#failure;
  }

  /**
   * Stops reading (after the request settled); idempotent. A source already
   * being read is destroyed with the body (as a `for await` loop would); one
   * never read is left to its owner, e.g. to answer an HTTP request with the error.
   */
  dispose(): void {
    this.#callerSignal?.removeEventListener('abort', this.#onAbort);
    if (!this.body.destroyed) this.body.destroy();
  }

  #fail(err: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = err ?? new Error('body failed');
    this.#controller.abort(this.#failure);
    // Without an error: nobody may be listening on the caller's stream yet.
    if (!this.#source.destroyed) this.#source.destroy();
  }

  async *#pump(limits: BodyLimits, ctx: S3ErrorContext): AsyncGenerator<Buffer> {
    const { expectedSize, maxSize } = limits;
    for await (const chunk of this.#source) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array | string);
      this.#bytes += buf.length;
      if (expectedSize !== undefined && this.#bytes > expectedSize) {
        throw s3Error('Corrupt', `received more than the ${expectedSize} bytes declared`, ctx);
      }
      if (this.#bytes > maxSize) throw s3Error('TooLarge', limits.tooLarge, ctx);
      yield buf;
    }
    if (expectedSize !== undefined && this.#bytes !== expectedSize) {
      throw s3Error('Corrupt', `received ${this.#bytes} bytes, ${expectedSize} were declared`, ctx);
    }
  }
}

/**
 * Sends a guarded body with `send(body, signal)`; when the request fails
 * because the body failed, throws the body's reason instead of the SDK's abort.
 */
export async function sendGuarded<T>(guarded: GuardedBody, send: (body: Readable, signal: AbortSignal) => Promise<T>): Promise<T> {
  try {
    return await send(guarded.body, guarded.signal);
  } catch (err) {
    throw guarded.failure ?? err;
  } finally {
    guarded.dispose();
  }
}
