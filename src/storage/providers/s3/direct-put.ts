/**
 * PutObject of bytes in memory, signed by the SDK's own SigV4 signer and sent
 * with `node:http(s)` on the client's connection pool, without the SDK's
 * middleware stack. Measured on radosgw, 100 KB bodies, 10 at once: 1.75 ms
 * of CPU per request through `client.send`, 0.66 ms this way. A migration of
 * 10,000 small files spends most of its CPU there, on the same cores as the
 * store it writes to.
 *
 * Used only for path-style endpoints that are not AWS (MinIO, radosgw, other
 * S3-compatible stores): AWS needs virtual-hosted addressing and region
 * redirects, which stay with the SDK. The payload is sent unsigned with a
 * `Content-MD5`, so the store refuses bytes that differ from what was hashed.
 * Failures become the same SDK-shaped errors the store's error mapping reads.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { uriEncode } from '../../../rolesanywhere/signer.ts';

/** What a direct put needs from the store's client setup. */
export interface DirectPutSetup {
  /** Path-style endpoint (no trailing slash). */
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials: ConstructorParameters<typeof SignatureV4>[0]['credentials'];
  readonly agents: { readonly http: HttpAgent; readonly https: HttpsAgent };
  /** Socket idle time before the request fails (the SDK's `socketTimeout`). */
  readonly requestTimeoutMs: number;
}

/** One object to store. */
export interface DirectPutRequest {
  readonly bucket: string;
  readonly key: string;
  readonly bytes: Uint8Array;
  readonly contentType: string;
  /** Hex MD5 of `bytes`, when the caller has it. */
  readonly md5?: string | undefined;
  readonly ifNoneMatch?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** The signer's hash: Node's native SHA-256 and HMAC. */
class Sha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }

  update(data: SourceData): void {
    this.#hash.update(bytesOf(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}

/** S3's encoding of a key in a path: every byte but unreserved characters and `/`. */
function encodeKey(key: string): string {
  return key.split('/').map(uriEncode).join('/');
}

/** Sends PutObject requests directly; see the module comment. */
export class DirectPut {
  readonly #setup: DirectPutSetup;
  readonly #signer: SignatureV4;
  readonly #basePath: string;

  constructor(setup: DirectPutSetup) {
    this.#setup = setup;
    this.#signer = new SignatureV4({ credentials: setup.credentials, region: setup.region, service: 's3', sha256: Sha256, uriEscapePath: false });
    this.#basePath = setup.endpoint.pathname.replace(/\/+$/u, '');
  }

  /** Stores the bytes; resolves with the store's ETag; rejects with an SDK-shaped error. */
  async put(r: DirectPutRequest): Promise<string> {
    const url = this.#setup.endpoint;
    const md5 = r.md5 === undefined ? createHash('md5').update(r.bytes).digest('base64') : Buffer.from(r.md5, 'hex').toString('base64');
    const headers: Record<string, string> = {
      host: url.host,
      'content-length': String(r.bytes.length),
      'content-type': r.contentType,
      'content-md5': md5,
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      ...(r.ifNoneMatch === true ? { 'if-none-match': '*' } : {}),
    };
    const path = `${this.#basePath}/${r.bucket}/${encodeKey(r.key)}`;
    const signed = await this.#signer.sign({
      method: 'PUT', protocol: url.protocol, hostname: url.hostname, path, headers, query: {}, ...(url.port === '' ? {} : { port: Number(url.port) }),
    });
    const res = await this.#send(path, signed.headers, r);
    const body = await readSmall(res);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return String(res.headers.etag ?? '');
    throw serviceError(status, body, res.headers['x-amz-request-id']);
  }

  #send(path: string, headers: Record<string, string>, r: DirectPutRequest): Promise<IncomingMessage> {
    const https = this.#setup.endpoint.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send({
        host: this.#setup.endpoint.hostname, port: this.#setup.endpoint.port, method: 'PUT', path, headers,
        agent: https ? this.#setup.agents.https : this.#setup.agents.http,
        timeout: this.#setup.requestTimeoutMs,
        ...(r.signal === undefined ? {} : { signal: r.signal }),
      }, resolve);
      req.on('error', reject);
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${this.#setup.requestTimeoutMs} ms`), { name: 'TimeoutError' })));
      req.end(r.bytes);
    });
  }
}

/** The answer's body (an error document is a few hundred bytes; anything past 64 KiB is dropped). */
async function readSmall(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res as AsyncIterable<Buffer>) if (text.length < 65_536) text += chunk.toString('utf8');
  return text;
}

/** An error shaped as the SDK's service errors are (`name`, `$metadata.httpStatusCode`). */
function serviceError(status: number, body: string, requestId: string | string[] | undefined): Error {
  const code = /<Code>([^<]{1,100})<\/Code>/u.exec(body)?.[1];
  const message = /<Message>([^<]{0,500})<\/Message>/u.exec(body)?.[1] ?? `HTTP ${status}`;
  const err = new Error(message);
  err.name = code ?? 'UnknownError';
  return Object.assign(err, { $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, requestId } });
}
