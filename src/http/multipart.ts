import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.ts';
import { toErrorReply } from './error-handler.ts';

/** One result per file part, in part order: `{hash}` or `{errors}`. */
export type UploadResult = { hash: string } | { errors: string };

/** Kinds of failure that concern one file only; the rest of the batch goes on. */
const PER_FILE = new Set(['UnsupportedMedia', 'Unprocessable']);

/**
 * Reads a multipart body part by part, streaming each file into `store` and
 * never holding it in memory. Per-file content problems become `{errors}`;
 * transport problems (cut connection, size limit) fail the request.
 */
export async function readUploadParts(
  req: FastifyRequest,
  store: (file: Readable, filename: string) => Promise<{ hash: string }>,
): Promise<UploadResult[]> {
  if (!req.isMultipart()) {
    throw new AppError('UnsupportedMedia', 'expected a multipart/form-data body with one file part per upload');
  }
  const results: UploadResult[] = [];
  for await (const part of req.parts()) {
    if (part.type !== 'file') continue;
    try {
      const { hash } = await store(part.file, part.filename);
      results.push({ hash });
    } catch (err) {
      if (!(err instanceof AppError) || !PER_FILE.has(err.kind)) throw err;
      part.file.resume();
      results.push({ errors: toErrorReply(err).body.error });
    }
  }
  if (results.length === 0) throw new AppError('InvalidInput', 'the multipart body has no file part', { field: 'file' });
  return results;
}
