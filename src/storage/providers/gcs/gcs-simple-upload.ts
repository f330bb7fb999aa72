/**
 * Small objects in one request: a multipart upload (`uploadType=multipart`,
 * the object resource as JSON, then the bytes), where a resumable session
 * takes two. The bytes are in memory, so this is only for bodies up to the
 * store's `simpleUploadMaxSize`.
 *
 * The request is authenticated as the SDK authenticates its own JSON API
 * requests (same client, same rule for custom endpoints); an abort signal cuts
 * it off, and a multipart body that never ends never becomes an object.
 */
import { randomBytes } from 'node:crypto';
import type { File, Storage } from '@google-cloud/storage';
import { gcsError, type GcsErrorContext } from './gcs-errors.ts';
import { httpError, httpSend } from './gcs-http.ts';
import type { GcsObjectMetadata } from './gcs-objects.ts';

/** One small upload. */
export interface SimpleUpload {
  readonly file: File;
  readonly contentType: string;
  /** `0`: create only (the server answers 412 when the object exists). */
  readonly ifGenerationMatch?: number | undefined;
  /** Base64 MD5 of the bytes: GCS refuses to store a body that does not match it. */
  readonly md5: string;
  readonly signal: AbortSignal;
  readonly ctx: GcsErrorContext;
}

/** Uploads `data` as the object of `req.file` in one request; returns the object resource. */
export async function uploadSimple(req: SimpleUpload, data: Buffer): Promise<GcsObjectMetadata> {
  const { storage, bucket, name } = req.file;
  const url = new URL(`${storage.apiEndpoint}/upload/storage/v1/b/${encodeURIComponent(bucket.name)}/o`);
  url.searchParams.set('uploadType', 'multipart');
  url.searchParams.set('name', name);
  if (req.ifGenerationMatch !== undefined) url.searchParams.set('ifGenerationMatch', String(req.ifGenerationMatch));
  const boundary = boundaryFor(data);
  const resource = { name, contentType: req.contentType, md5Hash: req.md5 };
  const headers = {
    ...(await authHeaders(storage, url.href)),
    'content-type': `multipart/related; boundary=${boundary}`,
  };
  const res = await httpSend('POST', url.href, headers, multipartBody(boundary, resource, req.contentType, data), req.signal);
  if (res.status !== 200 && res.status !== 201) throw httpError(res.status, res.body);
  try {
    return JSON.parse(res.body) as GcsObjectMetadata;
  } catch {
    throw gcsError('Internal', `${req.ctx.bucket ?? '?'}/${req.ctx.key ?? '?'}: the server answered the upload with no object resource`, req.ctx);
  }
}

/**
 * The SDK's rule: a custom endpoint (an emulator, `STORAGE_EMULATOR_HOST`) gets
 * no credentials unless the client was told to authenticate there.
 */
async function authHeaders(storage: Storage, url: string): Promise<Record<string, string>> {
  if (storage.customEndpoint && storage.useAuthWithCustomEndpoint !== true) return {};
  return { ...(await storage.authClient.getRequestHeaders(url)) };
}

/** A boundary that does not occur in the bytes (parsers split on its first match). */
function boundaryFor(data: Buffer): string {
  for (;;) {
    const boundary = `stowage-${randomBytes(16).toString('hex')}`;
    if (!data.includes(boundary)) return boundary;
  }
}

/**
 * `multipart/related` with exactly one header per part (the firebase-tools
 * emulator's parser accepts nothing else).
 */
function multipartBody(boundary: string, resource: Record<string, unknown>, contentType: string, data: Buffer): Buffer[] {
  // The JSON carries the real content type; the part header must stay one printable line.
  const partType = /^[\x20-\x7e]+$/u.test(contentType) ? contentType : 'application/octet-stream';
  const head = `--${boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify(resource)}\r\n`
    + `--${boundary}\r\ncontent-type: ${partType}\r\n\r\n`;
  return [Buffer.from(head, 'utf8'), data, Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')];
}
