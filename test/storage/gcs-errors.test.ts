/**
 * Error mapping of the GCS store from real SDK error shapes: the SDK is
 * pointed at a loopback server answering what GCS answers (401, 403, 429, 503,
 * 5xx, 404 for a missing bucket), on each of its code paths (JSON API
 * requests, resumable-session creation, multipart upload, media download). The emulator never
 * produces these.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { isStorageError, StorageError, type StorageErrorKind } from '../../src/storage/errors.ts';
import { createGcsStore, type GcsStore } from '../../src/storage/providers/gcs/index.ts';
import { toGcsError } from '../../src/storage/providers/gcs/gcs-errors.ts';
import { startGcsStub, type GcsStub } from '../helpers/peers/gcs-emulator.ts';

const B = 'errors-bucket';

const REASONS: Readonly<Record<number, string>> = {
  401: 'required', 403: 'forbidden', 404: 'notFound', 412: 'conditionNotMet', 429: 'rateLimitExceeded',
  500: 'backendError', 502: 'badGateway', 503: 'backendError', 504: 'gatewayTimeout',
};

function gcsAnswer(res: ServerResponse, status: number, message = `status ${status}`): void {
  const body = { error: { code: status, message, errors: [{ reason: REASONS[status] ?? 'invalid', message }] } };
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

type Route = 'bucket' | 'metadata' | 'media' | 'session' | 'other';

function routeOf(method: string, url: URL): Route {
  if (url.pathname === `/storage/v1/b/${B}`) return 'bucket';
  if (method === 'POST' && url.pathname.startsWith('/upload/')) return 'session';
  if (url.pathname.startsWith(`/storage/v1/b/${B}/o/`)) return url.searchParams.get('alt') === 'media' ? 'media' : 'metadata';
  return 'other';
}

const OBJECT = { bucket: B, name: 'k.txt', size: '5', generation: '7', etag: 'CAc=', updated: '2026-01-01T00:00:00Z' };

/** A stub where `failing` answers `status` and every other route succeeds. */
async function failOn(failing: Route | 'all', status: number, message?: string): Promise<GcsStub> {
  return startGcsStub((req, _body, res, endpoint) => {
    const route = routeOf(req.method ?? '', new URL(req.url ?? '/', endpoint));
    if (failing === 'all' || route === failing) return gcsAnswer(res, status, message);
    if (route === 'bucket') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: B }));
    if (route === 'metadata') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(OBJECT));
    if (route === 'media') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    gcsAnswer(res, 400, 'unexpected request');
  });
}

async function rejectsWith(promise: Promise<unknown>, kind: StorageErrorKind, message?: RegExp): Promise<StorageError> {
  let caught: StorageError | undefined;
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isStorageError(err, kind), `expected ${kind}, got ${String(err)}`);
    if (message !== undefined) assert.match(err.message, message);
    caught = err;
    return true;
  });
  return caught as StorageError;
}

describe('gcs error mapping (SDK against a loopback API)', () => {
  let stub: GcsStub | undefined;
  let store: GcsStore | undefined;
  const open = async (failing: Route | 'all', status: number, message?: string, simpleUploadMaxSize?: number): Promise<GcsStore> => {
    stub = await failOn(failing, status, message);
    store = createGcsStore({ endpoint: stub.endpoint, simpleUploadMaxSize });
    return store;
  };
  afterEach(async () => {
    await store?.close();
    await stub?.close();
  });

  const table: readonly [number, StorageErrorKind, RegExp][] = [
    [401, 'Unauthenticated', /credentials were rejected \(check STORAGE_CREDENTIALS_PATH\)/u],
    [403, 'PermissionDenied', /permission denied/u],
    [429, 'RateLimited', /throttling/u],
    [503, 'RateLimited', /throttling/u],
    [500, 'Unavailable', /google storage at http:\/\/127\.0\.0\.1:\d+ failed \(HTTP 500\)/u],
    [502, 'Unavailable', /HTTP 502/u],
    [504, 'Unavailable', /HTTP 504/u],
  ];
  for (const [status, kind, message] of table) {
    it(`JSON API: HTTP ${status} is ${kind}, sent once (no SDK retries)`, async () => {
      const s = await open('all', status);
      const err = await rejectsWith(s.head(B, 'k.txt'), kind, message);
      assert.equal(stub?.requests.length, status === 403 ? 2 : 1, 'one request per step: no retries');
      const cause = err.cause as Record<string, unknown>;
      assert.equal(cause['status'], status);
      assert.equal(cause['response'], undefined, 'the SDK error (with its request headers) is not kept');
    });
  }

  // A small body is one multipart upload request; 0 forces a resumable session (created by the SDK).
  for (const [path, simpleUploadMaxSize] of [['resumable session', 0], ['multipart upload', undefined]] as const) {
    for (const [status, kind] of [[401, 'Unauthenticated'], [403, 'PermissionDenied'], [429, 'RateLimited'], [412, 'PreconditionFailed'], [502, 'Unavailable']] as const) {
      it(`${path}: HTTP ${status} is ${kind}`, async () => {
        const s = await open('session', status, undefined, simpleUploadMaxSize);
        await rejectsWith(s.put(B, 'new.txt', Readable.from([Buffer.from('x')])), kind);
        assert.equal(stub?.requests.filter((r) => r.url.startsWith('/upload/')).length, 1, 'no retries');
      });
    }
    it(`${path}: a bucket deleted after it was checked is ConfigInvalid, naming it`, async () => {
      const s = await open('session', 404, 'The specified bucket does not exist.', simpleUploadMaxSize);
      await rejectsWith(s.put(B, 'new.txt', Readable.from([Buffer.from('x')])), 'ConfigInvalid', /bucket errors-bucket does not exist/u);
    });
  }

  for (const [status, kind] of [[403, 'PermissionDenied'], [503, 'RateLimited'], [416, 'InvalidRange'], [500, 'Unavailable']] as const) {
    it(`download: HTTP ${status} is ${kind}`, async () => {
      const s = await open('media', status);
      await rejectsWith(s.get(B, 'k.txt'), kind);
    });
  }

  it('a missing bucket is NotFound on reads and ConfigInvalid on writes, naming it', async () => {
    const s = await open('bucket', 404, 'The specified bucket does not exist.');
    const hint = new RegExp(`bucket ${B} does not exist: create it or set STORAGE_CREATE_BUCKETS=true`, 'u');
    await rejectsWith(s.get(B, 'k.txt'), 'NotFound', hint);
    await rejectsWith(s.list(B), 'NotFound', hint);
    await rejectsWith(s.put(B, 'k.txt', Readable.from([Buffer.from('x')])), 'ConfigInvalid', hint);
    await rejectsWith(s.createMultipart(B, 'k.txt'), 'ConfigInvalid', hint);
    assert.equal(await s.exists(B, 'k.txt'), false);
  });

  it('a bucket deleted after it was checked is recognised from the object answer', async () => {
    const s = await open('metadata', 404, 'The specified bucket does not exist.');
    await rejectsWith(s.head(B, 'k.txt'), 'NotFound', /bucket errors-bucket does not exist/u);
  });

  it('without permission to read bucket metadata, object requests decide', async () => {
    const s = await open('bucket', 403);
    assert.equal((await s.head(B, 'k.txt')).size, 5);
  });
});

describe('gcs reads of a replaced object', () => {
  it('pins the download to the generation described, and reads again when it was replaced meanwhile', async () => {
    let generation = 7;
    const stub = await startGcsStub((req, _body, res, endpoint) => {
      const url = new URL(req.url ?? '/', endpoint);
      const route = routeOf(req.method ?? '', url);
      if (route === 'bucket') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: B }));
      if (route === 'metadata') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...OBJECT, generation: String(generation) }));
      // The first download races with an overwrite: generation 7 is gone, 8 is current.
      if (url.searchParams.get('generation') === '7') {
        generation = 8;
        return gcsAnswer(res, 404, 'No such object: errors-bucket/k.txt');
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    });
    const store = createGcsStore({ endpoint: stub.endpoint });
    try {
      const { info, body } = await store.get(B, 'k.txt');
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'hello');
      const media = stub.requests.filter((r) => r.url.includes('alt=media')).map((r) => new URL(r.url, stub.endpoint).searchParams.get('generation'));
      assert.deepEqual(media, ['7', '8']);
      assert.equal(info.size, 5);
    } finally {
      await store.close();
      await stub.close();
    }
  });
});

describe('gcs unreachable endpoint', () => {
  it('a refused connection is Unavailable, naming the endpoint', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createNetServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const store = createGcsStore({ endpoint: `http://127.0.0.1:${port}` });
    await rejectsWith(store.head(B, 'k.txt'), 'Unavailable', new RegExp(`google storage at http://127\\.0\\.0\\.1:${port} cannot be reached \\(ECONNREFUSED\\)`, 'u'));
    await rejectsWith(store.put(B, 'k.txt', Readable.from([Buffer.from('x')])), 'Unavailable');
  });

  it('a connection reset is Unavailable after a single attempt', async () => {
    const sockets: Socket[] = [];
    const server = createNetServer((socket) => {
      sockets.push(socket);
      socket.resetAndDestroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const store = createGcsStore({ endpoint: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` });
    try {
      await rejectsWith(store.head(B, 'k.txt'), 'Unavailable', /ECONNRESET/u);
      assert.equal(sockets.length, 1, 'no retries');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('gcs error shapes without a server', () => {
  const ctx = { bucket: B, key: 'k.txt', endpoint: 'https://storage.googleapis.com' };

  it('maps an OAuth invalid_grant (gaxios shape) to Unauthenticated', () => {
    const err = Object.assign(new Error('invalid_grant: Invalid JWT Signature.'), {
      response: { status: 400, data: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } },
    });
    const mapped = toGcsError(err, ctx);
    assert.equal(mapped.kind, 'Unauthenticated');
    assert.match(mapped.message, /STORAGE_CREDENTIALS_PATH/u);
  });

  it('maps missing default credentials to ConfigInvalid', () => {
    const err = new Error('Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information.');
    assert.equal(toGcsError(err, ctx).kind, 'ConfigInvalid');
  });

  it('maps a fetch failure to Unavailable through its cause', () => {
    const err = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    assert.equal(toGcsError(err, ctx).kind, 'Unavailable');
  });

  it('maps download checksum mismatches to Corrupt and keeps StorageErrors', () => {
    assert.equal(toGcsError(Object.assign(new Error('mismatch'), { code: 'CONTENT_DOWNLOAD_MISMATCH' }), ctx).kind, 'Corrupt');
    const own = new StorageError('TooLarge', 'too big');
    assert.equal(toGcsError(own, ctx), own);
    assert.equal(toGcsError(new Error('something odd'), ctx).kind, 'Internal');
  });
});
