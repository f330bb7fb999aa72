/**
 * Errors raised by services (catalog, media, auth) that the HTTP error handler
 * turns into statuses. Storage failures use {@link StorageError} instead.
 */
export type AppErrorKind =
  /** 400: a field is missing or invalid; `details.field` names it. */
  | 'InvalidInput'
  /** 400 with `details.type = "NONUNIQUE"` (the wire's conflict). */
  | 'Conflict'
  /** 401: no key, or a wrong/revoked/expired key or signature. */
  | 'Unauthenticated'
  /** 403: authenticated, not allowed. */
  | 'Forbidden'
  /** 404 */
  | 'NotFound'
  /** 413 */
  | 'PayloadTooLarge'
  /** 416 */
  | 'RangeNotSatisfiable'
  /** 415 */
  | 'UnsupportedMedia'
  /** 422: well-formed but cannot be processed (e.g. an unreadable image). */
  | 'Unprocessable'
  /** 503 */
  | 'Unavailable'
  /** 500 */
  | 'Internal';

/** A service error with a kind and optional JSON details for the client. */
export class AppError extends Error {
  readonly kind: AppErrorKind;
  readonly details: Record<string, unknown> | undefined;

  constructor(kind: AppErrorKind, message: string, details?: Record<string, unknown>, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AppError';
    this.kind = kind;
    this.details = details;
  }
}

/** Shorthand for a 400 naming the offending field. */
export function invalidInput(field: string, message: string): AppError {
  return new AppError('InvalidInput', message, { field });
}

/** Shorthand for a 404 naming what was missing. */
export function notFound(entity: string, id: number | string): AppError {
  return new AppError('NotFound', `${entity} ${id} not found`, { entity, id });
}
