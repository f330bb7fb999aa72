import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.ts';
import { toErrorReply } from './error-handler.ts';

/** One result per file part, in part order: `{hash}` or `{errors}`. */
export type UploadResult = { hash: string } | { errors: string };

/** Kinds of failure that concern one file only; the rest of the batch goes on. */
const PER_FILE = new Set(['UnsupportedMedia', 'Unprocessable']);

/** Files of one request being stored while the next ones are read. */
const PIPELINE_DEPTH = 4;

/**
 * Reads a multipart body part by part, streaming each file into `receive`
 * and never holding a large one in memory. `receive` consumes the file and
 * hands back its storing, which runs while the next parts are read (up to
 * {@link PIPELINE_DEPTH} at once). Per-file content problems become
 * `{errors}`; transport problems (cut connection, size limit) fail the request.
 */
export async function readUploadParts(
  req: FastifyRequest,
  receive: (file: Readable, filename: string) => Promise<{ stored: Promise<{ hash: string }> }>,
): Promise<UploadResult[]> {
  if (!req.isMultipart()) {
    throw new AppError('UnsupportedMedia', 'expected a multipart/form-data body with one file part per upload');
  }
  const results: Promise<UploadResult>[] = [];
  try {
    for await (const part of req.parts()) {
      if (part.type !== 'file') continue;
      const ahead = results[results.length - PIPELINE_DEPTH];
      if (ahead !== undefined) await ahead;
      try {
        const { stored } = await receive(part.file, part.filename);
        results.push(stored.then(({ hash }) => ({ hash }), perFileError));
      } catch (err) {
        part.file.resume();
        results.push(Promise.resolve(perFileError(err)));
      }
    }
  } catch (err) {
    // The request fails; what is still being stored must not end as an unhandled rejection.
    await Promise.allSettled(results);
    throw err;
  }
  if (results.length === 0) throw new AppError('InvalidInput', 'the multipart body has no file part', { field: 'file' });
  return Promise.all(results);
}

/** `{errors}` for a problem of one file's content; anything else is rethrown. */
function perFileError(err: unknown): UploadResult {
  if (!(err instanceof AppError) || !PER_FILE.has(err.kind)) throw err;
  return { errors: toErrorReply(err).body.error };
}
