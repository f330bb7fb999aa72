import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Image } from '../catalog/types.ts';
import type { Services } from '../services/services.ts';

/**
 * A `multipart/mixed` body with one part per image, named by its id in
 * `Content-Disposition` (what the SDK's batch download reads). Objects are
 * opened one at a time as the client reads.
 */
export function multipartBody(images: Image[], services: Services): { boundary: string; body: Readable } {
  const boundary = `stowage-${randomBytes(12).toString('hex')}`;
  async function* parts(): AsyncGenerator<Buffer> {
    for (const img of images) {
      const at = services.items.locate(img);
      const got = await at.store.get(at.bucket, at.key);
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${img.id}"; filename="${encodeURIComponent(img.name)}"\r\n` +
          `Content-Type: ${img.mime ?? got.info.contentType ?? 'application/octet-stream'}\r\n` +
          `Content-Length: ${got.info.size}\r\n\r\n`,
      );
      for await (const chunk of got.body) yield chunk as Buffer;
      yield Buffer.from('\r\n');
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  return { boundary, body: Readable.from(parts()) };
}
