import type { Readable } from 'node:stream';
import { isStorageError, type StorageErrorKind } from './errors.ts';
import type {
  GetOptions, GetResult, ListOptions, ListPage, MultipartUpload, ObjectInfo, ObjectStore, PartInfo, PutBody, PutOptions,
} from './object-store.ts';

/** Kinds worth another attempt: the store was busy or briefly unreachable. */
export const RETRYABLE_KINDS: ReadonlySet<StorageErrorKind> = new Set(['RateLimited', 'Unavailable']);

/** Options of {@link withRetries}. */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 5. */
  maxAttempts?: number;
  /** First back-off, doubled each attempt. Default 200 ms. */
  baseDelayMs?: number;
  /** Cap of one back-off. Default 10 s. */
  maxDelayMs?: number;
  /** Waits; replaced in tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform [0, 1); replaced in tests. */
  random?: () => number;
  /** Told about each retry (kind, attempt, delay), for logs. */
  onRetry?: (info: { op: string; kind: StorageErrorKind; attempt: number; delayMs: number }) => void;
}

/** "Full jitter" back-off: a uniform delay up to the exponential cap. */
export function backoffDelay(attempt: number, o: Required<Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>>): number {
  const cap = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(o.random() * cap);
}

/**
 * Wraps any store so transient failures (RateLimited, Unavailable) are retried
 * with exponential back-off and jitter; permanent ones fail at once. Calls
 * whose body is a one-shot stream (`put`, `uploadPart`) cannot be replayed and
 * are tried once; `putFile` re-reads its file and is retried.
 */
export function withRetries(store: ObjectStore, options: RetryOptions = {}): ObjectStore {
  const o = {
    maxAttempts: options.maxAttempts ?? 5,
    baseDelayMs: options.baseDelayMs ?? 200,
    maxDelayMs: options.maxDelayMs ?? 10_000,
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))),
    random: options.random ?? Math.random,
  };
  async function retry<T>(op: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt >= o.maxAttempts || !isStorageError(err) || !RETRYABLE_KINDS.has(err.kind)) throw err;
        const delayMs = backoffDelay(attempt, o);
        options.onRetry?.({ op, kind: err.kind, attempt, delayMs });
        await o.sleep(delayMs);
      }
    }
  }
  const wrapUpload = (u: MultipartUpload): MultipartUpload => ({
    bucket: u.bucket, key: u.key, uploadId: u.uploadId,
    uploadPart: (n: number, body: Readable, size: number) => u.uploadPart(n, body, size),
    complete: (parts: readonly PartInfo[]) => retry('complete', () => u.complete(parts)),
    abort: () => retry('abort', () => u.abort()),
  });
  return {
    provider: store.provider,
    capabilities: store.capabilities,
    get: (b: string, k: string, opts?: GetOptions): Promise<GetResult> => retry('get', () => store.get(b, k, opts)),
    head: (b: string, k: string): Promise<ObjectInfo> => retry('head', () => store.head(b, k)),
    exists: (b: string, k: string) => retry('exists', () => store.exists(b, k)),
    // A stream can be read once; bytes can be sent again.
    put: (b: string, k: string, body: PutBody, opts?: PutOptions) =>
      (body instanceof Uint8Array ? retry('put', () => store.put(b, k, body, opts)) : store.put(b, k, body, opts)),
    putFile: (b: string, k: string, path: string, opts?: PutOptions) => retry('putFile', () => store.putFile(b, k, path, opts)),
    list: (b: string, opts?: ListOptions): Promise<ListPage> => retry('list', () => store.list(b, opts)),
    copy: (sb: string, sk: string, db: string, dk: string) => retry('copy', () => store.copy(sb, sk, db, dk)),
    delete: (b: string, k: string) => retry('delete', () => store.delete(b, k)),
    createMultipart: async (b: string, k: string, opts?: PutOptions) => wrapUpload(await retry('createMultipart', () => store.createMultipart(b, k, opts))),
    ensureBucket: (b: string) => retry('ensureBucket', () => store.ensureBucket(b)),
    close: () => store.close(),
  };
}
