import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { AppError, type AppErrorKind } from '../errors.ts';
import { StorageError, type StorageErrorKind } from '../storage/errors.ts';

const APP_STATUS: Record<AppErrorKind, number> = {
  InvalidInput: 400, Conflict: 400, Unauthenticated: 401, Forbidden: 403, NotFound: 404,
  PayloadTooLarge: 413, UnsupportedMedia: 415, RangeNotSatisfiable: 416, Unprocessable: 422,
  Unavailable: 503, Internal: 500,
};

// A remote store rejecting *our* credentials is a gateway problem, not the caller's.
const STORAGE_STATUS: Record<StorageErrorKind, number> = {
  NotFound: 404, InvalidKey: 400, InvalidRange: 416, PreconditionFailed: 412, TooLarge: 413,
  PermissionDenied: 403, Unauthenticated: 502, ConfigInvalid: 503, RateLimited: 503, Unavailable: 503,
  Corrupt: 502, NotSupported: 501, Internal: 500,
};

/** The wire's error body: `error` plus `details` (with `message`). */
export interface ErrorBody {
  error: string;
  details: Record<string, unknown>;
}

/** Turns any thrown value into a status and a JSON body safe to show. */
export function toErrorReply(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof AppError) {
    return reply(APP_STATUS[err.kind], err.message, { kind: err.kind, ...err.details });
  }
  if (err instanceof StorageError) {
    const details: Record<string, unknown> = { kind: err.kind };
    if (err.bucket !== undefined) details['bucket'] = err.bucket;
    if (err.key !== undefined) details['key'] = err.key;
    return reply(STORAGE_STATUS[err.kind], err.message, details);
  }
  if (err instanceof ZodError) {
    const issue = err.issues[0];
    const field = issue === undefined ? '' : issue.path.join('.');
    const message = issue === undefined ? 'invalid request' : `${field || 'body'}: ${issue.message}`;
    return reply(400, message, { kind: 'InvalidInput', field, issues: err.issues.slice(0, 20) });
  }
  return fromFastifyError(err as Partial<FastifyError>);
}

function fromFastifyError(err: Partial<FastifyError>): { status: number; body: ErrorBody } {
  const code = err.code ?? '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT') {
    return reply(413, `payload too large: ${err.message ?? ''}`.trim(), { kind: 'PayloadTooLarge' });
  }
  const status = err.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return reply(status, err.message ?? 'bad request', { kind: 'InvalidInput', code });
  }
  return reply(500, 'internal error', { kind: 'Internal' });
}

function reply(status: number, message: string, details: Record<string, unknown>): { status: number; body: ErrorBody } {
  return { status, body: { error: message, details: { ...details, message } } };
}

/** Fastify error handler: one place maps error kinds to statuses. */
export function errorHandler(err: unknown, req: FastifyRequest, res: FastifyReply): void {
  const { status, body } = toErrorReply(err);
  if (status >= 500) req.log.error({ err }, 'request failed');
  else req.log.info({ status, error: body.error }, 'request rejected');
  if (status === 503 && err instanceof StorageError && err.kind === 'RateLimited') res.header('retry-after', '5');
  if (res.sent || res.raw.headersSent) {
    res.raw.destroy();
    return;
  }
  void res.status(status).type('application/json').send(body);
}
