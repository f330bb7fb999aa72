/**
 * Upload bodies of the load test, cheap for a client that shares 2 cores with
 * the servers: a small pool of real noise JPEGs/PNGs is made once, and every
 * upload is one of them plus a short unique tail after the image's end marker
 * (decoders stop at JPEG's EOI and PNG's IEND). The SHA-256 of the image part
 * is computed once and copied per upload, so a new 10 MB body costs a hash of
 * a few dozen bytes, not of 10 MB.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import sharp from 'sharp';

/** One pre-generated image of the pool. */
export interface BaseImage {
  format: 'jpeg' | 'png';
  mime: string;
  bytes: Buffer;
  width: number;
  height: number;
  /** Large files are uploaded and downloaded, but never previewed (too much server CPU per request). */
  large: boolean;
  /** SHA-256 state after `bytes`, copied for each unique body. */
  prefix: Hash;
}

/** One upload: a base image and its unique tail, with the SHA-256 (base64) of both. */
export interface UploadBody {
  base: BaseImage;
  tail: Buffer;
  size: number;
  sha256: string;
}

/** What the pool holds: small images of several sizes and formats, and a few large ones. */
export interface PoolRecipe {
  /** Side pairs (4:3, widths divisible by 4, so halved and quartered previews have exact sizes). */
  small: ReadonlyArray<{ format: 'jpeg' | 'png'; width: number; height: number }>;
  /** Large JPEGs, by pixel size; their byte size follows (noise at q95 is about 1.1 B/px). */
  large: ReadonlyArray<{ width: number; height: number }>;
}

/** The pool of the bench and the fault test: 64x48 up to 1024x768, plus JPEGs of ~2.5 and ~10 MB. */
export const DEFAULT_POOL: PoolRecipe = {
  small: [
    { format: 'jpeg', width: 64, height: 48 }, { format: 'jpeg', width: 160, height: 120 },
    { format: 'jpeg', width: 320, height: 240 }, { format: 'jpeg', width: 640, height: 480 },
    { format: 'jpeg', width: 1024, height: 768 }, { format: 'png', width: 64, height: 48 },
    { format: 'png', width: 160, height: 120 }, { format: 'png', width: 320, height: 240 },
  ],
  // The second is above 8 MiB: Stowage spools such uploads and sends them as S3 multipart uploads.
  large: [{ width: 1600, height: 1200 }, { width: 3600, height: 2700 }],
};

async function noiseImage(format: 'jpeg' | 'png', width: number, height: number, quality: number): Promise<Buffer> {
  const img = sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality }).toBuffer();
}

function baseImage(format: 'jpeg' | 'png', bytes: Buffer, width: number, height: number, large: boolean): BaseImage {
  return { format, mime: `image/${format}`, bytes, width, height, large, prefix: createHash('sha256').update(bytes) };
}

/** Makes the pool (a few seconds of sharp, once per run). */
export async function makeBodyPool(recipe: PoolRecipe = DEFAULT_POOL): Promise<BaseImage[]> {
  const out: BaseImage[] = [];
  for (const [i, s] of recipe.small.entries()) {
    out.push(baseImage(s.format, await noiseImage(s.format, s.width, s.height, 60 + (i * 7) % 35), s.width, s.height, false));
  }
  for (const l of recipe.large) out.push(baseImage('jpeg', await noiseImage('jpeg', l.width, l.height, 95), l.width, l.height, true));
  return out;
}

/** A new body: `base` plus a tail naming `label` (unique per upload, so every upload is a new object). */
export function uniqueBody(base: BaseImage, label: string): UploadBody {
  const tail = Buffer.from(`\nstowage-load ${label}\n`);
  return { base, tail, size: base.bytes.length + tail.length, sha256: base.prefix.copy().update(tail).digest('base64') };
}

/** The body as a Blob for a multipart part. */
export function bodyBlob(body: UploadBody): Blob {
  return new Blob([body.base.bytes, body.tail], { type: body.base.mime });
}

/** Bytes `start`..`end` (inclusive) of the body, without materializing the whole body. */
export function bodySlice(body: UploadBody, start: number, end: number): Buffer {
  const n = body.base.bytes.length;
  const parts: Buffer[] = [];
  if (start < n) parts.push(body.base.bytes.subarray(start, Math.min(end + 1, n)));
  if (end >= n) parts.push(body.tail.subarray(Math.max(0, start - n), end + 1 - n));
  return parts.length === 1 ? (parts[0] ?? Buffer.alloc(0)) : Buffer.concat(parts);
}

/** base64 SHA-256 of a buffer. */
export function sha256b64(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}
