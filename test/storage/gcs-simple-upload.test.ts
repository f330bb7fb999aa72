/**
 * Small uploads of the GCS store: one `uploadType=multipart` request (object
 * resource + bytes) instead of a resumable session, chosen by declared size or,
 * for a body of unknown size, by reading at most the limit. Against a loopback
 * stand-in that records the requests (the emulator cannot show them, nor check
 * preconditions or credentials).
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Storage } from '@google-cloud/storage';
import { isStorageError, type StorageErrorKind } from '../../src/storage/errors.ts';
import { createGcsStore, type GcsStore } from '../../src/storage/providers/gcs/index.ts';
import { uploadObject } from '../../src/storage/providers/gcs/gcs-upload.ts';
import { startGcsStub, type GcsStub, type StubRequest } from '../helpers/peers/gcs-emulator.ts';

const B = 'small-uploads';
const KiB = 1024;
const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('base64');

interface Upload {
  readonly query: URLSearchParams;
  readonly resource: Record<string, unknown>;
  readonly partType: string;
  readonly data: Buffer;
}

/** The parts of a multipart body, checked to have exactly one header each (as the emulator requires). */
function parseMultipart(contentType: string, body: Buffer): Omit<Upload, 'query'> {
  const boundary = /^multipart\/related; boundary=([^;]+)$/u.exec(contentType)?.[1] ?? assert.fail(`content type ${contentType}`);
  const parts = body.toString('latin1').split(`--${boundary}`);
  assert.equal(parts.length, 4, 'preamble, two parts, closing delimiter');
  assert.equal(parts[3], '--\r\n');
  const [meta, media] = [parts[1] ?? '', parts[2] ?? ''].map((p) => {
    const match = /^\r\ncontent-type: ([^\r\n]+)\r\n\r\n/u.exec(p) ?? assert.fail(`part headers of ${p.slice(0, 80)}`);
    assert.ok(p.endsWith('\r\n'));
    return { type: match[1] ?? '', content: p.slice(match[0].length, -2) };
  });
  assert.equal(meta?.type, 'application/json; charset=UTF-8');
  const resource = JSON.parse(Buffer.from(meta?.content ?? '', 'latin1').toString('utf8')) as Record<string, unknown>;
  return { resource, partType: media?.type ?? '', data: Buffer.from(media?.content ?? '', 'latin1') };
}

/** Bucket probe, multipart uploads, resumable sessions (one PUT), object metadata and deletes. */
class FakeGcs {
  readonly objects = new Map<string, { data: Buffer; generation: number }>();
  readonly uploads: Upload[] = [];
  /** Status to answer multipart uploads with instead of storing. */
  failWith: { status: number; message: string; reason: string } | undefined;
  /** MD5 to report instead of the real one. */
  md5: string | undefined;
  #generation = 0;
  #session = '';

  handle(req: IncomingMessage, body: Buffer, res: ServerResponse, endpoint: string): void {
    const url = new URL(req.url ?? '/', endpoint);
    if (url.pathname === `/storage/v1/b/${B}`) return json(res, 200, { name: B });
    if (req.method === 'POST' && url.searchParams.get('uploadType') === 'multipart') return this.#multipart(req, url, body, res);
    if (req.method === 'POST') {
      this.#session = url.searchParams.get('name') ?? '';
      return void res.writeHead(200, { location: `${endpoint}/session/1` }).end();
    }
    if (req.method === 'PUT') return json(res, 200, this.#store(this.#session, body));
    const name = decodeURIComponent(/\/o\/(.+)$/u.exec(url.pathname)?.[1] ?? '');
    const stored = this.objects.get(name);
    if (stored === undefined) return json(res, 404, { error: { code: 404, message: `No such object: ${B}/${name}`, errors: [{ reason: 'notFound' }] } });
    if (req.method !== 'DELETE') return json(res, 200, this.#metadata(name, stored.data, stored.generation));
    this.objects.delete(name);
    res.writeHead(204).end();
  }

  #multipart(req: IncomingMessage, url: URL, body: Buffer, res: ServerResponse): void {
    const upload = { query: url.searchParams, ...parseMultipart(String(req.headers['content-type']), body) };
    this.uploads.push(upload);
    const { failWith } = this;
    if (failWith !== undefined) return json(res, failWith.status, { error: { code: failWith.status, message: failWith.message, errors: [{ reason: failWith.reason }] } });
    json(res, 200, this.#store(url.searchParams.get('name') ?? '', upload.data, String(upload.resource['contentType'])));
  }

  #store(name: string, data: Buffer, contentType?: string): Record<string, unknown> {
    const generation = ++this.#generation;
    this.objects.set(name, { data, generation });
    return { ...this.#metadata(name, data, generation), contentType };
  }

  #metadata(name: string, data: Buffer, generation: number): Record<string, unknown> {
    return { bucket: B, name, size: String(data.length), generation: String(generation), etag: `E${generation}`, md5Hash: this.md5 ?? md5(data) };
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function rejectsWith(promise: Promise<unknown>, kind: StorageErrorKind): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isStorageError(err, kind), `expected ${kind}, got ${String(err)}`);
    return true;
  });
}

/** Yields `chunk`, then fails like a dropped client connection. */
function failingAfter(chunk: Buffer): Readable {
  return Readable.from((async function* () {
    yield chunk;
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error('client went away');
  })(), { objectMode: false });
}

const isUpload = (r: StubRequest): boolean => r.url.startsWith('/upload/');

describe('gcs small uploads (one multipart request)', () => {
  let fake: FakeGcs;
  let stub: GcsStub;
  let store: GcsStore;
  let tight: GcsStore;
  beforeEach(async () => {
    fake = new FakeGcs();
    stub = await startGcsStub((req, body, res, endpoint) => fake.handle(req, body, res, endpoint));
    store = createGcsStore({ endpoint: stub.endpoint });
    tight = createGcsStore({ endpoint: stub.endpoint, simpleUploadMaxSize: 256 * KiB });
  });
  afterEach(async () => {
    await store.close();
    await tight.close();
    await stub.close();
  });

  it('sends a body of declared size as one request: name, precondition, content type, MD5', async () => {
    const data = randomBytes(100 * KiB);
    const info = await store.put(B, 'photos/a b+é.png', Readable.from([data]), { size: data.length, ifNoneMatch: true });
    assert.equal(info.size, data.length);
    assert.deepEqual(stub.requests.filter(isUpload).map((r) => r.method), ['POST'], 'no resumable session');
    const [upload] = fake.uploads;
    assert.equal(upload?.query.get('name'), 'photos/a b+é.png');
    assert.equal(upload?.query.get('ifGenerationMatch'), '0');
    assert.deepEqual(upload?.resource, { name: 'photos/a b+é.png', contentType: 'image/png', md5Hash: md5(data) });
    assert.equal(upload?.partType, 'image/png');
    assert.deepEqual(fake.objects.get('photos/a b+é.png')?.data, data);
    assert.equal(stub.requests.find(isUpload)?.headers['authorization'], undefined, 'no credentials for a custom endpoint');
  });

  it('sends no precondition without ifNoneMatch, and an empty body', async () => {
    await store.put(B, 'empty.txt', Readable.from([]), { size: 0 });
    assert.equal(fake.uploads[0]?.query.get('ifGenerationMatch'), null);
    assert.equal(fake.uploads[0]?.resource['contentType'], 'text/plain; charset=utf-8');
    assert.equal(fake.objects.get('empty.txt')?.data.length, 0);
  });

  it('reads a body of unknown size up to the limit: one request below it, a session above it', async () => {
    const small = randomBytes(256 * KiB);
    const large = randomBytes(256 * KiB + 1);
    await tight.put(B, 'small.bin', Readable.from([small.subarray(0, 1000), small.subarray(1000)]));
    await tight.put(B, 'large.bin', Readable.from([large.subarray(0, 100 * KiB), large.subarray(100 * KiB)]));
    assert.deepEqual(stub.requests.filter(isUpload).map((r) => `${r.method} ${new URL(r.url, stub.endpoint).searchParams.get('uploadType') ?? ''}`), ['POST multipart', 'POST resumable']);
    const put = stub.requests.find((r) => r.method === 'PUT');
    assert.equal(put?.headers['content-range'], 'bytes 0-*/*');
    assert.deepEqual(fake.objects.get('small.bin')?.data, small);
    assert.deepEqual(fake.objects.get('large.bin')?.data, large, 'the bytes read to decide are sent first');
  });

  it('sends a declared size above the limit through a session without reading it first', async () => {
    const data = randomBytes(256 * KiB + 1);
    await tight.put(B, 'declared.bin', Readable.from([data]), { size: data.length });
    assert.equal(fake.uploads.length, 0);
    assert.equal(stub.requests.find((r) => r.method === 'PUT')?.headers['content-range'], `bytes 0-${data.length - 1}/${data.length}`);
    assert.deepEqual(fake.objects.get('declared.bin')?.data, data);
  });

  it('putFile of a small file is one request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gcs-simple-'));
    try {
      const file = join(dir, 'clip.mp4');
      await writeFile(file, 'not really a video');
      assert.equal((await store.putFile(B, 'clip.mp4', file)).size, 18);
      assert.equal(fake.uploads[0]?.resource['contentType'], 'video/mp4');
      assert.equal(stub.requests.filter(isUpload).length, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a failing, long or short body sends nothing', async () => {
    await assert.rejects(store.put(B, 'cut.bin', failingAfter(randomBytes(KiB)), { size: 2 * KiB }), (err: unknown) => isStorageError(err));
    await assert.rejects(store.put(B, 'cut2.bin', failingAfter(randomBytes(KiB))), (err: unknown) => isStorageError(err));
    await rejectsWith(store.put(B, 'long.bin', Readable.from([Buffer.alloc(12)]), { size: 11 }), 'Corrupt');
    await rejectsWith(store.put(B, 'short.bin', Readable.from([Buffer.alloc(10)]), { size: 11 }), 'Corrupt');
    assert.equal(stub.requests.filter(isUpload).length, 0);
    assert.equal(fake.objects.size, 0);
  });

  it('an abort while the body is read sends nothing', async () => {
    const controller = new AbortController();
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(KiB));
    const put = store.put(B, 'aborted.bin', body, { signal: controller.signal, size: 4 * KiB });
    setImmediate(() => controller.abort());
    await rejectsWith(put, 'Internal');
    assert.equal(body.destroyed, true);
    assert.equal(stub.requests.filter(isUpload).length, 0);
  });

  it('a stored MD5 that differs from the bytes sent is Corrupt and the object is removed', async () => {
    fake.md5 = md5('something else');
    await rejectsWith(store.put(B, 'garbled.bin', Readable.from([Buffer.from('payload')]), { size: 7 }), 'Corrupt');
    assert.match(stub.requests.find((r) => r.method === 'DELETE')?.url ?? '', /\/o\/garbled\.bin\?.*ifGenerationMatch=1/u);
    assert.equal(fake.objects.size, 0);
  });

  for (const [status, reason, message, kind] of [
    [412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.', 'PreconditionFailed'],
    [403, 'forbidden', 'does not have storage.objects.create access', 'PermissionDenied'],
    [404, 'notFound', 'The specified bucket does not exist.', 'ConfigInvalid'],
    [401, 'required', 'Anonymous caller', 'Unauthenticated'],
    [429, 'rateLimitExceeded', 'slow down', 'RateLimited'],
    [503, 'backendError', 'try again', 'RateLimited'],
    [500, 'backendError', 'oops', 'Unavailable'],
    [400, 'invalid', 'Provided MD5 hash "Ew==" doesn\'t match calculated MD5 hash "XUF==".', 'Corrupt'],
  ] as const) {
    it(`maps HTTP ${status} of the upload to ${kind}`, async () => {
      fake.failWith = { status, reason, message };
      await rejectsWith(store.put(B, 'refused.txt', Readable.from([Buffer.from('x')]), { size: 1 }), kind);
      assert.equal(fake.objects.size, 0);
    });
  }
});

describe('gcs small uploads: credentials', () => {
  let fake: FakeGcs;
  let stub: GcsStub;
  beforeEach(async () => {
    fake = new FakeGcs();
    stub = await startGcsStub((req, body, res, endpoint) => fake.handle(req, body, res, endpoint));
  });
  afterEach(() => stub.close());

  /** A client whose auth client hands out a fixed token (the real one would ask Google for it). */
  function client(useAuthWithCustomEndpoint: boolean): Storage {
    const storage = new Storage({ apiEndpoint: stub.endpoint, useAuthWithCustomEndpoint, projectId: 'p' });
    storage.authClient.getRequestHeaders = async () => ({ Authorization: 'Bearer test-token' });
    return storage;
  }
  const upload = (storage: Storage, key: string) => uploadObject({
    file: storage.bucket(B).file(key), contentType: 'text/plain', size: 2, simpleMaxSize: 1024, ctx: { bucket: B, key, endpoint: stub.endpoint },
  }, Readable.from([Buffer.from('hi')]));

  it('sends the SDK auth client\'s headers where the SDK authenticates, and none where it does not', async () => {
    await upload(client(true), 'signed.txt');
    await upload(client(false), 'anonymous.txt');
    const auth = stub.requests.filter(isUpload).map((r) => r.headers['authorization']);
    assert.deepEqual(auth, ['Bearer test-token', undefined]);
    assert.deepEqual([...fake.objects.keys()], ['signed.txt', 'anonymous.txt']);
  });
});
