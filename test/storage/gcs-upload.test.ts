/**
 * Uploads of the GCS store against a loopback stand-in for the JSON API that
 * speaks the resumable-upload protocol (308 + Range for chunks, finalisation
 * only with the complete body): what the emulator cannot check (it ignores
 * ifGenerationMatch and finalises chunked uploads early).
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { isStorageError, type StorageErrorKind } from '../../src/storage/errors.ts';
import { createGcsStore, type GcsStore } from '../../src/storage/providers/gcs/index.ts';
import { startGcsStub, type GcsStub, type StubRequest } from '../helpers/peers/gcs-emulator.ts';

const B = 'uploads';
const KiB = 1024;

interface Session {
  readonly name: string;
  readonly contentType: string;
  readonly chunks: Buffer[];
  persisted: number;
}

/** Knobs of the fake: how it misbehaves. */
interface Quirks {
  /** Status of the finalising request (412: precondition failed at the end). */
  finalStatus?: number;
  /** Persist only half of the first chunk (GCS may keep less than sent). */
  persistHalfOnce?: boolean;
  /** Finalise on the first chunk even when more follows (the emulator's bug). */
  finaliseEarly?: boolean;
  /** Report this MD5 instead of the real one. */
  md5?: string;
}

/** A minimal GCS: bucket probe, object metadata, resumable sessions, deletes. */
class FakeGcs {
  readonly objects = new Map<string, { data: Buffer; generation: number; contentType: string }>();
  readonly sessions = new Map<string, Session>();
  quirks: Quirks = {};
  #generation = 1000;

  handle(req: IncomingMessage, body: Buffer, res: ServerResponse, endpoint: string): void {
    const url = new URL(req.url ?? '/', endpoint);
    const object = /^\/storage\/v1\/b\/[^/]+\/o\/(.+)$/u.exec(url.pathname);
    const session = /^\/session\/(\w+)$/u.exec(url.pathname);
    if (req.method === 'GET' && /^\/storage\/v1\/b\/[^/]+$/u.test(url.pathname)) return json(res, 200, { kind: 'storage#bucket', name: B });
    if (object?.[1] !== undefined) return this.#object(req.method ?? '', decodeURIComponent(object[1]), res);
    if (req.method === 'POST' && url.pathname === `/upload/storage/v1/b/${B}/o`) {
      const id = randomBytes(8).toString('hex');
      const contentType = String(req.headers['x-upload-content-type'] ?? '');
      this.sessions.set(id, { name: url.searchParams.get('name') ?? '', contentType, chunks: [], persisted: 0 });
      res.writeHead(200, { location: `${endpoint}/session/${id}` }).end();
      return;
    }
    const upload = session?.[1] === undefined ? undefined : this.sessions.get(session[1]);
    if (upload === undefined) return json(res, 404, { error: { code: 404, message: 'no such session' } });
    if (req.method === 'DELETE') return void res.writeHead(499).end();
    this.#put(upload, String(req.headers['content-range'] ?? ''), body, res);
  }

  #object(method: string, name: string, res: ServerResponse): void {
    const stored = this.objects.get(name);
    if (stored === undefined) return json(res, 404, { error: { code: 404, message: `No such object: ${B}/${name}`, errors: [{ reason: 'notFound' }] } });
    if (method === 'DELETE') {
      this.objects.delete(name);
      return void res.writeHead(204).end();
    }
    json(res, 200, this.#metadata(name, stored.data, stored.generation, stored.contentType));
  }

  #put(upload: Session, range: string, body: Buffer, res: ServerResponse): void {
    const match = /^bytes (?:(\d+)-(\d+|\*)|\*)\/(\d+|\*)$/u.exec(range);
    if (match === null) return json(res, 400, { error: { code: 400, message: `bad Content-Range ${range}` } });
    const [, start, , total] = match;
    if (start !== undefined && Number(start) !== upload.persisted) return json(res, 400, { error: { code: 400, message: 'gap' } });
    let keep = body;
    if (this.quirks.persistHalfOnce === true && total === '*') {
      this.quirks.persistHalfOnce = false;
      keep = body.subarray(0, body.length / 2);
    }
    upload.chunks.push(keep);
    upload.persisted += keep.length;
    const complete = total !== '*' ? upload.persisted === Number(total) : range.startsWith('bytes 0-*');
    if (!complete && this.quirks.finaliseEarly !== true) {
      return void res.writeHead(308, upload.persisted === 0 ? {} : { range: `bytes=0-${upload.persisted - 1}` }).end();
    }
    if (this.quirks.finalStatus !== undefined) {
      return json(res, this.quirks.finalStatus, { error: { code: this.quirks.finalStatus, message: 'At least one of the pre-conditions you specified did not hold.', errors: [{ reason: 'conditionNotMet' }] } });
    }
    const data = Buffer.concat(upload.chunks);
    const generation = ++this.#generation;
    this.objects.set(upload.name, { data, generation, contentType: upload.contentType });
    json(res, 200, this.#metadata(upload.name, data, generation, upload.contentType));
  }

  #metadata(name: string, data: Buffer, generation: number, contentType: string): Record<string, unknown> {
    const md5 = this.quirks.md5 ?? createHash('md5').update(data).digest('base64');
    return { kind: 'storage#object', bucket: B, name, size: String(data.length), generation: String(generation), etag: `E${generation}`, md5Hash: md5, contentType, updated: new Date().toISOString() };
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Yields `chunks`, then fails like a dropped client connection. */
function failingAfter(...chunks: Buffer[]): Readable {
  return Readable.from((async function* () {
    yield* chunks;
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error('client went away');
  })(), { objectMode: false });
}

async function rejectsWith(promise: Promise<unknown>, kind: StorageErrorKind): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isStorageError(err, kind), `expected ${kind}, got ${String(err)}`);
    return true;
  });
}

const isSessionPut = (r: StubRequest): boolean => r.method === 'PUT' && r.url.startsWith('/session/');

describe('gcs uploads (resumable protocol)', () => {
  let fake: FakeGcs;
  let stub: GcsStub;
  let store: GcsStore;
  let chunked: GcsStore;
  let onStart: (req: IncomingMessage) => void;
  beforeEach(async () => {
    fake = new FakeGcs();
    onStart = () => undefined;
    stub = await startGcsStub((req, body, res, endpoint) => fake.handle(req, body, res, endpoint), (req) => onStart(req));
    // Small bodies would go as one multipart request (gcs-simple-upload.test.ts): always resumable here.
    store = createGcsStore({ endpoint: stub.endpoint, simpleUploadMaxSize: 0 });
    chunked = createGcsStore({ endpoint: stub.endpoint, uploadChunkSize: 256 * KiB, simpleUploadMaxSize: 0 });
  });
  afterEach(async () => {
    await store.close();
    await chunked.close();
    await stub.close();
  });

  it('sends ifGenerationMatch=0 for ifNoneMatch, and the content type and length', async () => {
    await store.put(B, 'a/new.png', Readable.from([Buffer.from('png bytes')]), { ifNoneMatch: true, size: 9 });
    await store.put(B, 'a/plain.txt', Readable.from([Buffer.from('text')]));
    const [create, plain] = stub.requests.filter((r) => r.method === 'POST');
    const query = new URL(create?.url ?? '', stub.endpoint).searchParams;
    assert.equal(query.get('ifGenerationMatch'), '0');
    assert.equal(query.get('uploadType'), 'resumable');
    assert.equal(create?.headers['x-upload-content-type'], 'image/png');
    assert.equal(create?.headers['x-upload-content-length'], '9');
    assert.equal(new URL(plain?.url ?? '', stub.endpoint).searchParams.get('ifGenerationMatch'), null);
    assert.equal(plain?.headers['x-upload-content-type'], 'text/plain; charset=utf-8');
    assert.equal(fake.objects.get('a/new.png')?.data.toString(), 'png bytes');
    // One streaming request each: the exact range when the size is known, open-ended otherwise.
    assert.deepEqual(stub.requests.filter(isSessionPut).map((r) => r.headers['content-range']), ['bytes 0-8/9', 'bytes 0-*/*']);
  });

  it('uploads an empty object of declared size 0', async () => {
    const info = await store.put(B, 'empty.bin', Readable.from([]), { size: 0 });
    assert.equal(info.size, 0);
    assert.equal(stub.requests.find(isSessionPut)?.headers['content-range'], 'bytes */0');
    assert.equal(fake.objects.get('empty.bin')?.data.length, 0);
  });

  it('maps a 412 at finalisation (the object appeared meanwhile) to PreconditionFailed', async () => {
    fake.quirks.finalStatus = 412;
    await rejectsWith(store.put(B, 'raced.txt', Readable.from([Buffer.from('x')]), { ifNoneMatch: true }), 'PreconditionFailed');
    assert.equal(fake.objects.size, 0);
  });

  it('refuses ifNoneMatch on an existing object before sending the body', async () => {
    await store.put(B, 'once.txt', Readable.from([Buffer.from('first')]));
    await rejectsWith(store.put(B, 'once.txt', Readable.from([Buffer.from('second')]), { ifNoneMatch: true }), 'PreconditionFailed');
    assert.equal(stub.requests.filter((r) => r.method === 'POST').length, 1);
    assert.equal(fake.objects.get('once.txt')?.data.toString(), 'first');
  });

  it('aborts the request and cancels the session when the source fails midway', async () => {
    await assert.rejects(store.put(B, 'partial.bin', failingAfter(randomBytes(300 * KiB))), (err: unknown) => isStorageError(err));
    const put = await stub.waitForRequest(isSessionPut);
    assert.equal(put.aborted, true, 'the body must be cut off, never ended');
    assert.ok(stub.requests.some((r) => r.method === 'DELETE' && r.url.startsWith('/session/')), 'session cancelled');
    assert.equal(fake.objects.size, 0);
  });

  it('aborts the request when the signal fires', async () => {
    const controller = new AbortController();
    // Fired by the server once the upload request arrived, so its body is cut off mid-stream.
    onStart = (req) => {
      if (req.method === 'PUT') controller.abort();
    };
    const body = new Readable({
      read() {
        this.push(Buffer.alloc(64 * KiB, 1));
      },
    });
    await rejectsWith(store.put(B, 'aborted.bin', body, { signal: controller.signal }), 'Internal');
    assert.equal((await stub.waitForRequest(isSessionPut)).aborted, true);
    assert.equal(fake.objects.size, 0);
  });

  it('a body shorter than the declared size is Corrupt and stores nothing', async () => {
    await rejectsWith(store.put(B, 'short.bin', Readable.from([Buffer.alloc(10)]), { size: 11 }), 'Corrupt');
    assert.equal((await stub.waitForRequest(isSessionPut)).aborted, true);
    assert.equal(fake.objects.size, 0);
  });

  it('a stored MD5 that differs from the bytes sent is Corrupt and the object is removed', async () => {
    fake.quirks.md5 = createHash('md5').update('something else').digest('base64');
    await rejectsWith(store.put(B, 'garbled.bin', Readable.from([Buffer.from('payload')])), 'Corrupt');
    const removal = stub.requests.find((r) => r.method === 'DELETE' && r.url.includes('/o/garbled.bin'));
    assert.match(removal?.url ?? '', /ifGenerationMatch=\d+/u);
    assert.equal(fake.objects.size, 0);
  });

  describe('chunked', () => {
    const ranges = () => stub.requests.filter(isSessionPut).map((r) => r.headers['content-range']);

    it('sends exact 256 KiB chunks, then the rest with the total', async () => {
      const data = randomBytes(600 * KiB + 7);
      const info = await chunked.put(B, 'big.bin', Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]));
      assert.equal(info.size, data.length);
      assert.deepEqual(ranges(), ['bytes 0-262143/*', 'bytes 262144-524287/*', `bytes 524288-${data.length - 1}/${data.length}`]);
      assert.deepEqual(fake.objects.get('big.bin')?.data, data);
    });

    it('sends a chunk exactly one chunk long as the final request', async () => {
      const data = randomBytes(256 * KiB);
      await chunked.put(B, 'exact.bin', Readable.from([data]), { size: data.length });
      assert.deepEqual(ranges(), [`bytes 0-${data.length - 1}/${data.length}`]);
      assert.deepEqual(fake.objects.get('exact.bin')?.data, data);
    });

    it('resends what the server did not persist', async () => {
      fake.quirks.persistHalfOnce = true;
      const data = randomBytes(300 * KiB);
      await chunked.put(B, 'resent.bin', Readable.from([data]));
      assert.deepEqual(ranges(), ['bytes 0-262143/*', 'bytes 131072-262143/*', `bytes 262144-${data.length - 1}/${data.length}`]);
      assert.deepEqual(fake.objects.get('resent.bin')?.data, data);
    });

    it('never sends the final chunk when the source fails, and cancels the session', async () => {
      await assert.rejects(chunked.put(B, 'cut.bin', failingAfter(randomBytes(300 * KiB))), (err: unknown) => isStorageError(err));
      assert.deepEqual(ranges(), ['bytes 0-262143/*']);
      assert.ok(stub.requests.some((r) => r.method === 'DELETE' && r.url.startsWith('/session/')));
      assert.equal(fake.objects.size, 0);
    });

    it('a server finalising before the last chunk is Corrupt and the partial object is removed', async () => {
      fake.quirks.finaliseEarly = true;
      await rejectsWith(chunked.put(B, 'early.bin', Readable.from([randomBytes(300 * KiB)])), 'Corrupt');
      assert.ok(stub.requests.some((r) => r.method === 'DELETE' && /\/o\/early\.bin\?.*ifGenerationMatch=\d+/u.test(r.url)));
      assert.equal(fake.objects.size, 0);
    });
  });
});
