/**
 * The client side of the providers benchmark talking to Stowage: many small
 * images up (`images.bulk.upload`, several files per request, several requests
 * in flight), registered (`images.bulk.add`) and down (`images.download`), and
 * one large generated file up and down, streamed and sha256-checked.
 */
import { createHash } from 'node:crypto';
import { hashesOf, methodUrl, uploadImages, type ApiTarget } from './api-client.ts';
import { runPool } from './pool.ts';
import { hashStream } from './provider-sdk.ts';
import { generatedUpload } from './upload-body.ts';

export const sha256b64 = (b: Uint8Array): string => createHash('sha256').update(b).digest('base64');

/**
 * Uploads `files` in requests of `perRequest` files, `concurrency` requests in
 * flight; fails unless every returned hash is the file's own.
 */
export async function uploadSmall(api: ApiTarget, files: readonly Buffer[], expected: readonly string[], perRequest: number, concurrency: number): Promise<void> {
  const batches = Math.ceil(files.length / perRequest);
  await runPool(batches, concurrency, async (b) => {
    const start = b * perRequest;
    const hashes = await uploadImages(api, files.slice(start, start + perRequest), 'image/jpeg');
    hashes.forEach((h, i) => {
      if (h !== expected[start + i]) throw new Error(`images.bulk.upload: file ${start + i} came back as ${h}, expected ${expected[start + i]}`);
    });
  });
}

/** `images.download` of one item, hashed as it arrives. */
export async function downloadHashed(api: ApiTarget, id: number): Promise<{ bytes: number; hash: string; header: string | null }> {
  const res = await fetch(methodUrl(api, 'images.download'), {
    method: 'POST', headers: { 'x-api-key': api.apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ id }),
  });
  if (!res.ok || res.body === null) throw new Error(`images.download ${id} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return { ...await hashStream(res.body), header: res.headers.get('x-content-checksum-sha256') };
}

/** Downloads every id with `concurrency` requests in flight; each body must hash to `expected[i]`. */
export async function downloadSmall(api: ApiTarget, ids: readonly number[], expected: readonly string[], concurrency: number): Promise<void> {
  await runPool(ids.length, concurrency, async (i) => {
    const got = await downloadHashed(api, ids[i] ?? 0);
    if (got.hash !== expected[i]) throw new Error(`images.download ${ids[i]}: sha256 ${got.hash}, expected ${expected[i]}`);
  });
}

/** Streams the generated PNG + filler to `images.bulk.upload` as one multipart part; returns both hashes. */
export async function uploadBig(api: ApiTarget, png: Buffer, fillerBytes: number): Promise<{ bytes: number; hash: string; expected: string }> {
  const upload = generatedUpload(png, fillerBytes);
  const res = await fetch(methodUrl(api, 'images.bulk.upload'), {
    method: 'POST',
    headers: { 'x-api-key': api.apiKey, 'content-type': `multipart/form-data; boundary=${upload.boundary}` },
    body: upload.body,
    duplex: 'half',
  });
  const [hash] = await hashesOf(res, 1);
  return { bytes: upload.fileBytes, hash: hash ?? '', expected: upload.digest() };
}
