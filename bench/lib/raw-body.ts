/**
 * The bytes of bench/lib/upload-body.ts's generated file (a real PNG, then
 * noise filler) without the multipart framing, as a Node stream for the
 * provider SDKs. Hashed as produced, so the expected sha256 is known without
 * ever holding the file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 1 << 20;

export interface RawBody {
  /** PNG + filler bytes. */
  bytes: number;
  body: Readable;
  /** base64 sha256 of the content; valid once the body has been fully read. */
  digest(): string;
}

/** Yields the PNG, then `fillerBytes` of one random 1 MiB chunk repeated (never modified, so safe to share). */
export function rawGeneratedBody(png: Buffer, fillerBytes: number): RawBody {
  const filler = randomBytes(CHUNK);
  const sha = createHash('sha256');
  async function* chunks(): AsyncGenerator<Buffer> {
    sha.update(png);
    yield png;
    for (let left = fillerBytes; left > 0; left -= CHUNK) {
      const chunk = left >= CHUNK ? filler : filler.subarray(0, left);
      sha.update(chunk);
      yield chunk;
    }
  }
  return { bytes: png.length + fillerBytes, body: Readable.from(chunks(), { objectMode: false, highWaterMark: 4 * CHUNK }), digest: () => sha.digest('base64') };
}
