/**
 * Downloads of the GCS store through the SDK's `createReadStream` (which
 * checks the CRC32C of whole-object reads).
 */
import { PassThrough, type Readable } from 'node:stream';
import type { File } from '@google-cloud/storage';
import { toGcsError, type GcsErrorContext } from './gcs-errors.ts';

/**
 * Starts the download and resolves once the server answered, so HTTP errors
 * reject `get` instead of surfacing as stream errors; later errors destroy the
 * body with a translated `StorageError`.
 */
export function download(file: File, range: { start: number; end: number } | undefined, ctx: GcsErrorContext): Promise<Readable> {
  return new Promise((resolve, reject) => {
    const source = file.createReadStream(range === undefined ? {} : { start: range.start, end: range.end });
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    let started = false;
    source.on('response', (res: { statusCode?: number; status?: number }) => {
      const status = res.statusCode ?? res.status ?? 200;
      if (status < 300) {
        started = true;
        resolve(body);
      }
    });
    source.on('error', (err: unknown) => {
      const mapped = toGcsError(err, ctx);
      if (started) body.destroy(mapped);
      else {
        body.destroy();
        reject(mapped);
      }
    });
    body.on('close', () => source.destroy());
    source.pipe(body);
  });
}
