/**
 * Retries of whole migration steps (one object, one part, one listing page)
 * with exponential back-off, on top of the stores' own short retry layer: a
 * target that is down for a minute (restarted, throttling) must not fail the
 * objects sent meanwhile. Defaults follow the seed's snippet (10 attempts,
 * waits from 2 s doubling up to 60 s).
 */
import { AppError } from '../errors.ts';
import { isStorageError, type StorageErrorKind } from '../storage/errors.ts';

/** How often and how long to retry. */
export interface BackoffOptions {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

/** The seed's `stop_after_attempt(10)`, `wait_exponential(min=2, max=60)`. */
export const DEFAULT_BACKOFF: BackoffOptions = { attempts: 10, minDelayMs: 2000, maxDelayMs: 60_000 };

/** Failures no retry can fix: the setup, the key or the source object is wrong. */
const PERMANENT_KINDS: ReadonlySet<StorageErrorKind> = new Set([
  'NotFound', 'PermissionDenied', 'Unauthenticated', 'ConfigInvalid', 'InvalidKey', 'InvalidRange', 'TooLarge', 'NotSupported',
]);

/** A failure that stops the whole run (a cancelled run, an unusable target). */
export class MigrationAborted extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'MigrationAborted';
  }
}

/**
 * True when retrying cannot help. Everything else (5xx, resets, cut bodies,
 * checksum mismatches, SDK errors we do not know) is worth another attempt.
 */
export function isPermanent(err: unknown): boolean {
  if (err instanceof MigrationAborted) return true;
  if (err instanceof AppError) return err.kind !== 'Unavailable' && err.kind !== 'Internal';
  return isStorageError(err) && PERMANENT_KINDS.has(err.kind);
}

/** The wait before attempt `attempt + 1`: doubling from the minimum, capped, with ±25% jitter. */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(o.maxDelayMs, o.minDelayMs * 2 ** (attempt - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** Resolves after `ms`, or rejects with {@link MigrationAborted} when `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(new MigrationAborted('cancelled'));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new MigrationAborted('cancelled'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Whether `signal` has fired (a function, so checks after an await are not narrowed away). */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Told about each retry, for logs and progress. */
export type RetryListener = (info: { attempt: number; delayMs: number; err: unknown }) => void;

/**
 * Runs `fn` until it succeeds, fails permanently, or runs out of attempts
 * (the last error is thrown). A fired `signal` stops between attempts.
 */
export async function withBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  o: BackoffOptions,
  signal?: AbortSignal,
  onRetry?: RetryListener,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (isAborted(signal)) throw new MigrationAborted('cancelled');
    try {
      return await fn(attempt);
    } catch (err) {
      if (isAborted(signal)) throw new MigrationAborted('cancelled', err);
      if (attempt >= o.attempts || isPermanent(err)) throw err;
      const delayMs = backoffDelay(attempt, o);
      onRetry?.({ attempt, delayMs, err });
      await sleep(delayMs, signal);
    }
  }
}

/** One line for a report: the error's message, never a stack. */
export function describeError(err: unknown): string {
  if (isStorageError(err)) return `${err.kind}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
