import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { receiveUpload, releaseReceived, type ReceiveOptions } from '../../src/services/ingest-receive.ts';
import { createLocalStore, type LocalStore } from '../../src/storage/providers/local/index.ts';
import { AppError } from '../../src/errors.ts';

const MiB = 1024 * 1024;

/** `bytes` in network-sized chunks, optionally failing after `failAfter` bytes. */
function chunked(bytes: Buffer, failAfter?: number): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < bytes.length; i += 64 * 1024) {
      if (failAfter !== undefined && i >= failAfter) throw new Error('connection reset by client');
      yield bytes.subarray(i, i + 64 * 1024);
    }
  })());
}

describe('receiveUpload', () => {
  let dir: string;
  let tmp: string;
  let store: LocalStore;
  const stagingKeys: string[] = [];
  const opts = (extra: Partial<ReceiveOptions> = {}): ReceiveOptions => ({ maxBytes: 64 * MiB, memoryBytes: 2 * MiB, tmpDir: tmp, headBytes: 4096, ...extra });
  const staging = (): ReceiveOptions['staging'] => {
    const key = `tmp/ingest/${stagingKeys.length}`;
    stagingKeys.push(key);
    return { store, bucket: 'private', key, contentType: () => 'application/octet-stream', partBytes: 1024 * 1024, concurrency: 2 };
  };
  const stagedKeys = async () => (await store.list('private', { prefix: 'tmp/ingest/' })).objects.map((o) => o.key);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-receive-'));
    tmp = join(dir, 'tmp');
    store = createLocalStore({ root: join(dir, 'storage') });
    await store.ensureBucket('private');
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a small upload in memory, hashed, with no file', async () => {
    const body = randomBytes(300_000);
    const r = await receiveUpload(chunked(body), opts());
    assert.deepEqual(r.buffer, body);
    assert.equal(r.path, undefined);
    assert.equal(r.size, body.length);
    assert.equal(r.hex, createHash('sha256').update(body).digest('hex'));
    assert.equal(r.hash, createHash('sha256').update(body).digest('base64'));
    assert.deepEqual(r.head, body.subarray(0, 4096));
    assert.deepEqual(await readdir(tmp).catch(() => []), []);
  });

  it('spools a large upload to one file and keeps its head', async () => {
    const body = randomBytes(5 * MiB + 123);
    const r = await receiveUpload(chunked(body), opts());
    assert.equal(r.buffer, undefined);
    assert.ok(r.path !== undefined);
    assert.deepEqual(await readFile(r.path), body);
    assert.deepEqual(r.head, body.subarray(0, 4096));
    assert.equal(r.staged, undefined);
    await releaseReceived(r);
    assert.deepEqual(await readdir(tmp), []);
  });

  it('uploads a large body to the staging key while spooling it', async () => {
    const body = randomBytes(7 * MiB + 5);
    const r = await receiveUpload(chunked(body), opts({ staging: staging() }));
    assert.ok(r.staged !== undefined && r.path !== undefined);
    const got = await store.get(r.staged.bucket, r.staged.key);
    const hash = createHash('sha256');
    for await (const c of got.body) hash.update(c as Buffer);
    assert.equal(hash.digest('hex'), r.hex);
    assert.deepEqual(await readFile(r.path), body);
    await releaseReceived(r);
    await store.delete(r.staged.bucket, r.staged.key);
  });

  it('stages nothing for a small upload', async () => {
    const r = await receiveUpload(chunked(randomBytes(1000)), opts({ staging: staging() }));
    assert.equal(r.staged, undefined);
    assert.deepEqual(await stagedKeys(), []);
  });

  it('leaves no file and no staged object when the client goes away mid-upload', async () => {
    await assert.rejects(receiveUpload(chunked(randomBytes(8 * MiB), 5 * MiB), opts({ staging: staging() })), /connection reset/);
    assert.deepEqual(await readdir(tmp), []);
    assert.deepEqual(await stagedKeys(), []);
    // The staged multipart upload was aborted, not left for the sweeper.
    assert.equal(await store.sweepTmp({ olderThanMs: 0 }), 0);
  });

  it('refuses an upload over the limit with PayloadTooLarge, leaving nothing', async () => {
    await assert.rejects(receiveUpload(chunked(randomBytes(4 * MiB)), opts({ maxBytes: 3 * MiB, staging: staging() })), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.kind, 'PayloadTooLarge');
      assert.match(err.message, /MAX_UPLOAD_SIZE/);
      return true;
    });
    assert.deepEqual(await readdir(tmp), []);
    assert.deepEqual(await stagedKeys(), []);
  });

  it('fails the upload when the staging store fails, leaving no file', async () => {
    // A staging bucket that does not exist: the store refuses the put.
    const bad = { store, bucket: 'missing-bucket', key: 'tmp/ingest/x', contentType: () => 'text/plain', partBytes: 1024 * 1024, concurrency: 2 };
    await assert.rejects(receiveUpload(chunked(randomBytes(4 * MiB)), opts({ staging: bad })), (err: Error) => err.name === 'StorageError');
    assert.deepEqual(await readdir(tmp), []);
  });
});
