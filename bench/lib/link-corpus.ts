/**
 * The objects of the links benchmark: real noise JPEGs of 20–200 KB, some with
 * a large EXIF block (as camera exports have) so their frame header lies past
 * the first 4 KB, uploaded to an S3 bucket with the SDK directly.
 */
import { randomBytes } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { runPool } from './pool.ts';

/** One distinct image body and what its header says. */
export interface CorpusImage {
  bytes: Buffer;
  width: number;
  height: number;
  /** Offset of the SOF marker (how far a reader must get). */
  sofOffset: number;
}

/** Bytes per pixel of a noise JPEG at `quality`, measured once. */
async function bytesPerPixel(quality: number): Promise<number> {
  const side = 256;
  const jpeg = await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality }).toBuffer();
  return jpeg.length / (side * side);
}

/** Where the first SOF marker starts (walks the segments). */
export function sofOffset(jpeg: Buffer): number {
  let at = 2;
  while (at + 4 <= jpeg.length) {
    const marker = jpeg[at + 1] ?? 0;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return at;
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  return -1;
}

/**
 * `distinct` JPEGs with sizes spread evenly over [minBytes, maxBytes];
 * `exifShare` of them carry 8–60 KB of EXIF before the frame header.
 */
export async function makeCorpus(distinct: number, exifShare: number, rand: () => number, minBytes = 20_000, maxBytes = 200_000): Promise<CorpusImage[]> {
  const quality = 80;
  const bpp = await bytesPerPixel(quality);
  const out: CorpusImage[] = [];
  for (let i = 0; i < distinct; i++) {
    const target = minBytes + ((maxBytes - minBytes) * (i + 0.5)) / distinct;
    const exifChars = rand() < exifShare ? Math.round(8_000 + rand() * 52_000) : 0;
    const pixels = Math.max(64 * 64, (target - exifChars) / bpp);
    const width = Math.max(64, Math.round(Math.sqrt((pixels * 4) / 3)));
    const height = Math.max(48, Math.round(pixels / width));
    let img = sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } }).jpeg({ quality });
    if (exifChars > 0) img = img.withExif({ IFD0: { ImageDescription: 'd'.repeat(exifChars), Make: 'bench camera' } });
    const bytes = await img.toBuffer();
    out.push({ bytes, width, height, sofOffset: sofOffset(bytes) });
  }
  return out;
}

/** An S3 client for radosgw as an ordinary client would configure it. */
export function benchS3Client(endpoint: string, accessKey: string, secretKey: string): S3Client {
  return new S3Client({
    region: 'us-east-1', endpoint, forcePathStyle: true,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    // radosgw answers 411 to the SDK's default aws-chunked streaming checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Uploads `count` objects `<prefix><i>.jpg`, cycling over the corpus; returns the bytes sent. */
export async function uploadCorpus(client: S3Client, bucket: string, prefix: string, corpus: CorpusImage[], count: number, concurrency: number): Promise<number> {
  const sizes = await runPool(count, concurrency, async (i) => {
    const img = corpus[i % corpus.length] as CorpusImage;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${i}.jpg`, Body: img.bytes, ContentType: 'image/jpeg' }));
    return img.bytes.length;
  });
  return sizes.reduce((a, b) => a + b, 0);
}
