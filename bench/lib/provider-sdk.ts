/**
 * The anchor of the providers benchmark: each provider's official SDK used
 * directly, as an ordinary client would, against the same peer Stowage uses.
 * Independent of Stowage's store classes (src/storage/providers/*): only the
 * settings a peer requires are set (path-style URLs and no streaming checksums
 * for radosgw, the emulator host for GCS), and the big-put tuning matches
 * Stowage's defaults (8 MiB parts or blocks, 4 in flight) so that a ratio
 * measures Stowage's overhead, not a different part size.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { Storage, type Bucket } from '@google-cloud/storage';

const MiB = 2 ** 20;
/** Stowage's defaults for large puts on S3 and Azure (part/block size, parts in flight). */
export const ANCHOR_PART_BYTES = 8 * MiB;
export const ANCHOR_QUEUE = 4;

/** What the bench does with a provider's SDK. */
export interface SdkAnchor {
  /** How the SDK is used, for the report. */
  readonly method: { small: string; big: string };
  /** Creates the anchor's own bucket. */
  prepare(): Promise<void>;
  /** One small object from memory. */
  putSmall(key: string, bytes: Buffer, contentType: string): Promise<void>;
  /** A stream of known size, never held whole. */
  putStream(key: string, body: Readable, size: number, contentType: string): Promise<void>;
  /** Reads an object chunk by chunk into a sha256; returns its size and base64 hash. */
  getHashed(key: string): Promise<{ bytes: number; hash: string }>;
  close(): Promise<void>;
}

/** Hashes a body as it arrives (the same work the bench does on Stowage's replies). */
export async function hashStream(body: AsyncIterable<Uint8Array | string>): Promise<{ bytes: number; hash: string }> {
  const sha = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    sha.update(buf);
    bytes += buf.length;
  }
  return { bytes, hash: sha.digest('base64') };
}

export interface S3AnchorOptions { endpoint: string; accessKey: string; secretKey: string; bucket: string }

/** S3: PutObject / GetObject, and lib-storage's `Upload` for the big stream. */
export function s3Anchor(o: S3AnchorOptions): SdkAnchor {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: o.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: o.accessKey, secretAccessKey: o.secretKey },
    // radosgw answers 411 to the SDK's default aws-chunked streaming checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    method: { small: 'PutObject / GetObject', big: `lib-storage Upload (partSize 8 MiB, queueSize ${ANCHOR_QUEUE}) / GetObject` },
    async prepare() {
      await client.send(new CreateBucketCommand({ Bucket: o.bucket }));
    },
    async putSmall(key, bytes, contentType) {
      await client.send(new PutObjectCommand({ Bucket: o.bucket, Key: key, Body: bytes, ContentType: contentType }));
    },
    async putStream(key, body, size, contentType) {
      const upload = new Upload({
        client, partSize: ANCHOR_PART_BYTES, queueSize: ANCHOR_QUEUE, leavePartsOnError: false,
        params: { Bucket: o.bucket, Key: key, Body: body, ContentType: contentType, ContentLength: size },
      });
      await upload.done();
    },
    async getHashed(key) {
      const res = await client.send(new GetObjectCommand({ Bucket: o.bucket, Key: key }));
      if (res.Body === undefined) throw new Error(`GetObject ${key}: no body`);
      return hashStream(res.Body as Readable);
    },
    async close() {
      client.destroy();
    },
  };
}

export interface AzureAnchorOptions { endpoint: string; accountName: string; accountKey: string; container: string }

/** Azure: BlockBlobClient.upload / download, and `uploadStream` for the big stream. */
export function azureAnchor(o: AzureAnchorOptions): SdkAnchor {
  const service = new BlobServiceClient(o.endpoint, new StorageSharedKeyCredential(o.accountName, o.accountKey));
  const container: ContainerClient = service.getContainerClient(o.container);
  return {
    method: { small: 'BlockBlobClient.upload / download', big: `BlockBlobClient.uploadStream (8 MiB blocks, ${ANCHOR_QUEUE} in flight) / download` },
    async prepare() {
      await container.createIfNotExists();
    },
    async putSmall(key, bytes, contentType) {
      await container.getBlockBlobClient(key).upload(bytes, bytes.length, { blobHTTPHeaders: { blobContentType: contentType } });
    },
    async putStream(key, body, _size, contentType) {
      await container.getBlockBlobClient(key).uploadStream(body, ANCHOR_PART_BYTES, ANCHOR_QUEUE, { blobHTTPHeaders: { blobContentType: contentType } });
    },
    async getHashed(key) {
      const res = await container.getBlockBlobClient(key).download();
      if (res.readableStreamBody === undefined) throw new Error(`download ${key}: no body`);
      return hashStream(res.readableStreamBody as AsyncIterable<Buffer>);
    },
    async close() {},
  };
}

export interface GcsAnchorOptions { endpoint: string; bucket: string }

/**
 * GCS: `file.save` (resumable: false, the SDK's advice below 10 MB) for small
 * objects, `createWriteStream` (resumable, one streamed request) for the big
 * one, `createReadStream` (default CRC32C validation, as Stowage reads) to get.
 * The emulator needs STORAGE_EMULATOR_HOST in this process (the caller sets it).
 */
export function gcsAnchor(o: GcsAnchorOptions): SdkAnchor {
  const storage = new Storage({ apiEndpoint: o.endpoint, projectId: 'demo-test' });
  const bucket: Bucket = storage.bucket(o.bucket);
  return {
    method: { small: 'file.save (resumable: false) / createReadStream', big: 'file.createWriteStream (resumable, one streamed request) / createReadStream' },
    async prepare() {
      // The emulator has no bucket resource: a bucket exists once written to; creation may or may not answer.
      await storage.createBucket(o.bucket).catch(() => undefined);
    },
    async putSmall(key, bytes, contentType) {
      await bucket.file(key).save(bytes, { resumable: false, contentType });
    },
    async putStream(key, body, _size, contentType) {
      await pipeline(body, bucket.file(key).createWriteStream({ resumable: true, contentType }));
    },
    async getHashed(key) {
      return hashStream(bucket.file(key).createReadStream());
    },
    async close() {},
  };
}
