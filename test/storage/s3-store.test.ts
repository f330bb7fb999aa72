/**
 * S3-provider behaviour beyond the conformance suite, against radosgw:
 * credential and bucket errors, failed and aborted uploads leaving nothing
 * behind (no object, no open multipart upload), stale upload cleanup,
 * multipart putFile and UploadPartCopy, declared sizes, content types.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import {
  abortStaleMultipartUploads,
  createS3Store,
  listStaleMultipartUploads,
  type S3Store,
  type S3StoreOptions,
} from '../../src/storage/providers/s3/index.ts';
import { isStorageError, type StorageErrorKind } from '../../src/storage/errors.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';

const MiB = 1024 * 1024;
let rgw: Radosgw;
let store: S3Store;
const bucket = `s3-store-${randomUUID().slice(0, 8)}`;

function open(extra: Partial<S3StoreOptions> = {}): S3Store {
  return createS3Store({ endpoint: rgw.endpoint, accessKey: rgw.accessKey, secretKey: rgw.secretKey, partSizeBytes: 5 * MiB, ...extra });
}

before(async () => {
  rgw = await startRadosgw();
  store = open({ singlePutMaxBytes: 5 * MiB, multipartCopyThresholdBytes: 6 * MiB, copyPartSizeBytes: 5 * MiB });
  await store.ensureBucket(bucket);
});

after(async () => {
  await store?.close();
  await rgw?.stop();
});

async function rejectsWith(promise: Promise<unknown>, kind: StorageErrorKind, check?: (message: string) => void): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isStorageError(err), `expected a StorageError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    check?.(err.message);
    return true;
  });
}

async function openUploads(key: string): Promise<string[]> {
  const out = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  return (out.Uploads ?? []).filter((u) => u.Key === key).map((u) => u.UploadId ?? '');
}

async function sha256(body: AsyncIterable<unknown>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `total` bytes of `fill`, then an error: a client that went away mid-upload. */
function failingAfter(total: number): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    for (let sent = 0; sent < total; sent += MiB) yield Buffer.alloc(MiB, 5);
    throw new Error('client went away');
  }
  return Readable.from(gen(), { objectMode: false });
}

describe('S3 store against radosgw: credentials and buckets', () => {
  it('a wrong secret is Unauthenticated, without the secret in the message', async () => {
    const wrongSecret = `${rgw.secretKey.slice(0, -4)}nope`;
    const bad = open({ secretKey: wrongSecret });
    const ops = [
      () => bad.get(bucket, 'x.txt'),
      () => bad.head(bucket, 'x.txt'),
      () => bad.list(bucket),
      () => bad.put(bucket, 'x.txt', Readable.from([Buffer.from('x')]), { size: 1 }),
      () => bad.put(bucket, 'y.txt', Readable.from([Buffer.from('y')])),
      () => bad.put(bucket, 'z.txt', Buffer.from('z')),
      () => bad.ensureBucket(bucket),
    ];
    for (const op of ops) {
      await rejectsWith(op(), 'Unauthenticated', (message) => {
        assert.match(message, /credentials were rejected.*STORAGE_ACCESS_KEY\/STORAGE_SECRET_KEY/u);
        assert.ok(!message.includes(wrongSecret) && !message.includes(rgw.secretKey) && !message.includes(rgw.accessKey), message);
      });
    }
    await bad.close();
  });

  it('an unknown access key is Unauthenticated', async () => {
    const bad = open({ accessKey: 'NOSUCHKEY0000000000' });
    await rejectsWith(bad.list(bucket), 'Unauthenticated');
    await rejectsWith(bad.put(bucket, 'k.txt', Buffer.from('k')), 'Unauthenticated');
    await bad.close();
  });

  it('writing to a missing bucket is ConfigInvalid naming it; reading from it is NotFound', async () => {
    const missing = `missing-${randomUUID().slice(0, 8)}`;
    const named = (message: string) => assert.match(message, new RegExp(`bucket ${missing} does not exist: create it or set STORAGE_CREATE_BUCKETS=true`, 'u'));
    await rejectsWith(store.put(missing, 'a.txt', Readable.from([Buffer.from('a')]), { size: 1 }), 'ConfigInvalid', named);
    await rejectsWith(store.put(missing, 'b.txt', Readable.from([Buffer.from('b')])), 'ConfigInvalid', named);
    await rejectsWith(store.createMultipart(missing, 'c.bin'), 'ConfigInvalid', named);
    await rejectsWith(store.delete(missing, 'a.txt'), 'ConfigInvalid', named);
    await rejectsWith(store.get(missing, 'a.txt'), 'NotFound', named);
    await rejectsWith(store.list(missing), 'NotFound', named);
  });

  it('ensureBucket is idempotent and validates the name', async () => {
    await store.ensureBucket(bucket);
    await rejectsWith(store.ensureBucket('Not_A..Bucket'), 'InvalidKey');
  });
});

describe('S3 store against radosgw: failed uploads leave nothing behind', () => {
  it('a stream failing after several parts stores no object and leaves no multipart upload', async () => {
    const key = 'failed/after-parts.bin';
    await rejectsWith(store.put(bucket, key, failingAfter(17 * MiB)), 'Internal', (m) => assert.match(m, /client went away/u));
    assert.equal(await store.exists(bucket, key), false);
    assert.deepEqual(await openUploads(key), []);
  });

  it('an abort after several parts stores no object and leaves no multipart upload', async () => {
    const key = 'failed/aborted.bin';
    const controller = new AbortController();
    async function* gen(): AsyncGenerator<Buffer> {
      for (let i = 0; ; i++) {
        if (i === 12) controller.abort();
        yield Buffer.alloc(MiB, 6);
      }
    }
    const put = store.put(bucket, key, Readable.from(gen(), { objectMode: false }), { signal: controller.signal });
    await rejectsWith(put, 'Internal', (m) => assert.match(m, /aborted/u));
    assert.equal(await store.exists(bucket, key), false);
    assert.deepEqual(await openUploads(key), []);
  });

  it('a body shorter or longer than its declared size is Corrupt and stores nothing', async () => {
    await rejectsWith(store.put(bucket, 'sized/short.bin', Readable.from([Buffer.alloc(100)]), { size: 300 }), 'Corrupt');
    await rejectsWith(store.put(bucket, 'sized/long.bin', Readable.from([Buffer.alloc(400)]), { size: 300 }), 'Corrupt');
    await rejectsWith(store.put(bucket, 'sized/big-short.bin', failingAfter(0), { size: 8 * MiB }), 'Internal');
    await rejectsWith(store.put(bucket, 'sized/big-short2.bin', Readable.from([Buffer.alloc(6 * MiB)]), { size: 12 * MiB }), 'Corrupt');
    for (const key of ['sized/short.bin', 'sized/long.bin', 'sized/big-short.bin', 'sized/big-short2.bin']) {
      assert.equal(await store.exists(bucket, key), false, key);
      assert.deepEqual(await openUploads(key), [], key);
    }
  });

  it('a part body of the wrong size is Corrupt; a bad part number is refused', async () => {
    const upload = await store.createMultipart(bucket, 'parts/bad.bin');
    await rejectsWith(upload.uploadPart(1, Readable.from([Buffer.alloc(10)]), 20), 'Corrupt');
    await rejectsWith(upload.uploadPart(0, Readable.from([Buffer.alloc(10)]), 10), 'InvalidKey');
    await rejectsWith(upload.complete([]), 'PreconditionFailed');
    await upload.abort();
    assert.deepEqual(await openUploads('parts/bad.bin'), []);
  });

  it('ifNoneMatch refuses a large stream over an existing key before uploading, keeping the object', async () => {
    const key = 'conditional/kept.bin';
    await store.put(bucket, key, Readable.from([Buffer.from('original')]));
    await rejectsWith(store.put(bucket, key, failingAfter(20 * MiB), { ifNoneMatch: true }), 'PreconditionFailed');
    const upload = await store.createMultipart(bucket, key, { ifNoneMatch: true });
    const part = await upload.uploadPart(1, Readable.from([Buffer.from('intruder')]), 8);
    await rejectsWith(upload.complete([part]), 'PreconditionFailed');
    await upload.abort();
    assert.equal((await store.head(bucket, key)).size, 8);
    assert.deepEqual(await openUploads(key), []);
  });
});

describe('S3 store against radosgw: bytes in memory (one direct PutObject)', () => {
  it('refuses bytes that differ from their declared MD5, keeping the previous object', async () => {
    const key = `md5-${randomUUID()}.bin`;
    await store.put(bucket, key, Buffer.from('kept'));
    const wrong = createHash('md5').update('other bytes').digest('hex');
    await rejectsWith(store.put(bucket, key, Buffer.from('replacement'), { md5: wrong }), 'Corrupt');
    const right = createHash('md5').update('replacement').digest('hex');
    const info = await store.put(bucket, key, Buffer.from('replacement'), { md5: right, contentType: 'text/plain' });
    assert.equal(info.etag, `"${right}"`);
    const head = await store.head(bucket, key);
    assert.equal(head.contentType, 'text/plain');
    assert.equal(head.etag, `"${right}"`);
  });

  it('ifNoneMatch refuses bytes over an existing key; an aborted put is refused; a dead endpoint is Unavailable', async () => {
    const key = `inm-${randomUUID()}.txt`;
    await store.put(bucket, key, Buffer.from('first'), { ifNoneMatch: true });
    await rejectsWith(store.put(bucket, key, Buffer.from('second'), { ifNoneMatch: true }), 'PreconditionFailed');
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(store.put(bucket, `aborted-${key}`, Buffer.from('x'), { signal: controller.signal }), (err: unknown) => isStorageError(err));
    assert.equal(await store.exists(bucket, `aborted-${key}`), false);
    const dead = createS3Store({ endpoint: 'http://127.0.0.1:9', accessKey: 'a', secretKey: 'b' });
    await rejectsWith(dead.put(bucket, key, Buffer.from('x')), 'Unavailable', (m) => assert.match(m, /unreachable/u));
    await dead.close();
  });
});

describe('S3 store against radosgw: large files and copies', () => {
  it('uploads a large file as parts read from disk, leaving the file in place', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-s3-'));
    try {
      const file = join(dir, 'big.bin');
      const data = randomBytes(12 * MiB + 7);
      await writeFile(file, data);
      const info = await store.putFile(bucket, 'files/big.bin', file, { size: data.length });
      assert.equal(info.size, data.length);
      assert.match(info.etag, /^"[0-9a-f]+-3"$/u);
      assert.equal(await sha256((await store.get(bucket, 'files/big.bin')).body), createHash('sha256').update(data).digest('hex'));
      assert.equal((await stat(file)).size, data.length);
      assert.deepEqual(await openUploads('files/big.bin'), []);
      await rejectsWith(store.putFile(bucket, 'files/wrong.bin', file, { size: 5 }), 'Corrupt');
      await rejectsWith(store.putFile(bucket, 'files/none.bin', join(dir, 'missing.bin')), 'NotFound');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('copies a large object with UploadPartCopy, keeping bytes and content type', async () => {
    const src = 'copies/source café+&?#.bin';
    const data = randomBytes(11 * MiB + 3);
    await store.put(bucket, src, Readable.from([data]), { contentType: 'video/mp4' });
    const info = await store.copy(bucket, src, bucket, 'copies/dest 猫.bin');
    assert.equal(info.size, data.length);
    const head = await store.head(bucket, 'copies/dest 猫.bin');
    assert.equal(head.contentType, 'video/mp4');
    assert.match(head.etag, /-3"$/u);
    assert.equal(await sha256((await store.get(bucket, 'copies/dest 猫.bin')).body), createHash('sha256').update(data).digest('hex'));
    assert.deepEqual((await store.copy(bucket, src, bucket, src)).size, data.length);
  });

  it('guesses the content type from the key when none is given', async () => {
    await store.put(bucket, 'types/photo.jpg', Readable.from([Buffer.from('jpeg?')]), { size: 5 });
    assert.equal((await store.head(bucket, 'types/photo.jpg')).contentType, 'image/jpeg');
  });

  it('destroys a download body when its signal aborts', async () => {
    await store.put(bucket, 'reads/abort.bin', Readable.from([Buffer.alloc(2 * MiB, 1)]), { size: 2 * MiB });
    const controller = new AbortController();
    const got = await store.get(bucket, 'reads/abort.bin', { signal: controller.signal });
    controller.abort();
    await assert.rejects(sha256(got.body), (err: unknown) => err instanceof Error && err.name === 'AbortError');
    assert.equal(got.body.destroyed, true);
  });
});

describe('S3 store against radosgw: stale multipart uploads', () => {
  it('lists and aborts uploads left by another process, never this instance\'s own', async () => {
    const crashed = open();
    const orphan = await crashed.createMultipart(bucket, 'stale/orphan.bin');
    await orphan.uploadPart(1, Readable.from([Buffer.from('left behind')]), 11);
    crashed.client.destroy(); // the process died: nobody will abort it
    const own = await store.createMultipart(bucket, 'stale/own.bin');
    assert.deepEqual(await listStaleMultipartUploads(store, bucket, 3600_000), []);
    const stale = await listStaleMultipartUploads(store, bucket, 0);
    assert.deepEqual(stale.map((u) => [u.key, u.uploadId]), [['stale/orphan.bin', orphan.uploadId]]);
    assert.ok(stale[0]?.initiated instanceof Date);
    assert.equal(await abortStaleMultipartUploads(store, bucket, 0), 1);
    assert.deepEqual(await openUploads('stale/orphan.bin'), []);
    assert.deepEqual(await openUploads('stale/own.bin'), [own.uploadId]);
    await own.abort();
    assert.deepEqual(await openUploads('stale/own.bin'), []);
  });

  it('close aborts the uploads still open in the instance', async () => {
    const other = open();
    const upload = await other.createMultipart(bucket, 'stale/closed.bin');
    assert.deepEqual(await openUploads('stale/closed.bin'), [upload.uploadId]);
    await other.close();
    assert.deepEqual(await openUploads('stale/closed.bin'), []);
  });
});
