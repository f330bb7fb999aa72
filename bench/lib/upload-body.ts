/**
 * A multipart/form-data body generated on the fly: one file part holding a
 * real PNG followed by filler bytes (decoders stop at IEND, and Stowage reads
 * only the header), hashed as it is produced so the expected sha256 is known
 * without ever holding the file.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';

const CHUNK = 1 << 20;

export interface GeneratedUpload {
  boundary: string;
  /** Size of the file part's content (PNG + filler). */
  fileBytes: number;
  body: ReadableStream<Uint8Array>;
  /** base64 sha256 of the file content; valid once the body is fully read. */
  digest(): string;
}

/** Produces `--b head`, the PNG, `filler` bytes of noise, then the closing boundary. */
export function generatedUpload(png: Buffer, fillerBytes: number): GeneratedUpload {
  const boundary = `----stowage-bench-${randomBytes(16).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="0-file"; filename="0"\r\nContent-Type: image/png\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  // One random chunk, sent again and again: it is never changed, so sharing it between writes is safe.
  const filler = randomBytes(CHUNK);
  const sha = createHash('sha256');
  let left = fillerBytes;
  let stage: 'head' | 'filler' | 'tail' | 'done' = 'head';
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (stage === 'head') {
        sha.update(png);
        controller.enqueue(Buffer.concat([head, png]));
        stage = 'filler';
      } else if (stage === 'filler' && left > 0) {
        controller.enqueue(nextFiller(filler, left, sha));
        left -= Math.min(left, CHUNK);
      } else if (stage !== 'done') {
        controller.enqueue(tail);
        controller.close();
        stage = 'done';
      }
    },
  }, { highWaterMark: 4 });
  return { boundary, fileBytes: png.length + fillerBytes, body, digest: () => sha.digest('base64') };
}

function nextFiller(filler: Buffer, left: number, sha: Hash): Buffer {
  const chunk = left >= filler.length ? filler : filler.subarray(0, left);
  sha.update(chunk);
  return chunk;
}
