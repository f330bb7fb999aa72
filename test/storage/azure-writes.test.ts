/**
 * Writes of the Azure provider against Azurite beyond the conformance suite:
 * multi-block puts (small blocks make "several blocks" cheap), failures after
 * blocks were staged, size checks, multipart details, putFile.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { createAzureStore } from '../../src/storage/providers/azure/index.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { isStorageError, type StorageErrorKind } from '../../src/storage/errors.ts';
import { startAzurite, type AzuritePeer } from '../helpers/peers/azurite.ts';

const BUCKET = 'write-tests';
const BLOCK = 64 * 1024;

let peer: AzuritePeer;
let store: ObjectStore;
/** The raw SDK view of the container, to see what our store cannot: uncommitted blocks. */
let raw: ContainerClient;
let dir: string;
before(async () => {
  peer = await startAzurite();
  store = createAzureStore({ endpoint: peer.endpoint, accountName: peer.accountName, secret: peer.accountKey, blockSizeBytes: BLOCK, uploadConcurrency: 3 });
  await store.ensureBucket(BUCKET);
  const service = new BlobServiceClient(peer.endpoint, new StorageSharedKeyCredential(peer.accountName, peer.accountKey));
  raw = service.getContainerClient(BUCKET);
  dir = await mkdtemp(join(tmpdir(), 'stowage-azure-writes-'));
});
after(async () => {
  await store?.close();
  await peer?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function chunks(...parts: Buffer[]): Readable {
  return Readable.from(parts, { objectMode: false });
}

/** `blocks` full blocks of random bytes, then an error, like a client that drops mid-upload. */
function failingAfter(blocks: number): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    for (let i = 0; i < blocks; i++) yield randomBytes(BLOCK);
    await new Promise((resolve) => setTimeout(resolve, 20));
    throw new Error('client went away');
  }
  return Readable.from(gen(), { objectMode: false });
}

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

async function uncommittedBlocks(key: string): Promise<number> {
  try {
    return (await raw.getBlockBlobClient(key).getBlockList('uncommitted')).uncommittedBlocks?.length ?? 0;
  } catch {
    return 0;
  }
}

async function rejectsWith(promise: Promise<unknown>, kind: StorageErrorKind): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isStorageError(err), `expected a StorageError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    return true;
  });
}

describe('Azure put in blocks', () => {
  it('round-trips a body of many blocks, committing them in order', async () => {
    const data = randomBytes(7 * BLOCK + 1234);
    const info = await store.put(BUCKET, 'blocks/many.bin', chunks(data.subarray(0, 1000), data.subarray(1000)));
    assert.equal(info.size, data.length);
    const got = await readAll((await store.get(BUCKET, 'blocks/many.bin')).body);
    assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(data).digest('hex'));
    const list = await raw.getBlockBlobClient('blocks/many.bin').getBlockList('committed');
    assert.equal(list.committedBlocks?.length, 8);
  });

  it('a body failing after several staged blocks leaves no visible blob', async () => {
    const key = 'blocks/failed-new.bin';
    await rejectsWith(store.put(BUCKET, key, failingAfter(6)), 'Internal');
    assert.ok((await uncommittedBlocks(key)) >= 3, 'blocks were staged before the failure');
    assert.equal(await store.exists(BUCKET, key), false);
    assert.deepEqual((await store.list(BUCKET, { prefix: 'blocks/failed-new' })).objects, []);
  });

  it('a body failing after several staged blocks keeps the previous object', async () => {
    const key = 'blocks/failed-overwrite.txt';
    await store.put(BUCKET, key, chunks(Buffer.from('previous')));
    await rejectsWith(store.put(BUCKET, key, failingAfter(5)), 'Internal');
    assert.equal((await readAll((await store.get(BUCKET, key)).body)).toString(), 'previous');
  });

  it('an abort after several staged blocks stores nothing', async () => {
    const key = 'blocks/aborted.bin';
    const controller = new AbortController();
    let sent = 0;
    const endless = new Readable({
      read() {
        if (++sent === 5) controller.abort();
        this.push(randomBytes(BLOCK));
      },
    });
    await rejectsWith(store.put(BUCKET, key, endless, { signal: controller.signal }), 'Internal');
    assert.equal(await store.exists(BUCKET, key), false);
  });

  it('a body longer or shorter than the declared size is Corrupt and stores nothing', async () => {
    await rejectsWith(store.put(BUCKET, 'blocks/long.bin', chunks(randomBytes(3 * BLOCK)), { size: 2 * BLOCK }), 'Corrupt');
    await rejectsWith(store.put(BUCKET, 'blocks/short.bin', chunks(randomBytes(10)), { size: 11 }), 'Corrupt');
    assert.deepEqual((await store.list(BUCKET, { prefix: 'blocks/long' })).objects, []);
    assert.deepEqual((await store.list(BUCKET, { prefix: 'blocks/short' })).objects, []);
  });

  it('ifNoneMatch holds for multi-block bodies too', async () => {
    const key = 'blocks/once.bin';
    await store.put(BUCKET, key, chunks(randomBytes(3 * BLOCK)), { ifNoneMatch: true });
    await rejectsWith(store.put(BUCKET, key, chunks(randomBytes(3 * BLOCK)), { ifNoneMatch: true }), 'PreconditionFailed');
  });
});

describe('Azure putFile', () => {
  it('uploads a multi-block file and leaves the file to the caller', async () => {
    const file = join(dir, 'upload.bin');
    const data = randomBytes(3 * BLOCK + 5);
    await writeFile(file, data);
    assert.equal((await store.putFile(BUCKET, 'files/upload.bin', file, { contentType: 'application/x-test' })).size, data.length);
    assert.deepEqual(await readAll((await store.get(BUCKET, 'files/upload.bin')).body), data);
    assert.equal((await store.head(BUCKET, 'files/upload.bin')).contentType, 'application/x-test');
    assert.equal((await stat(file)).size, data.length);
  });

  it('a missing file is NotFound and a wrong declared size Corrupt', async () => {
    await rejectsWith(store.putFile(BUCKET, 'files/missing.bin', join(dir, 'missing.bin')), 'NotFound');
    const file = join(dir, 'sized.bin');
    await writeFile(file, 'twelve bytes');
    await rejectsWith(store.putFile(BUCKET, 'files/sized.bin', file, { size: 13 }), 'Corrupt');
    assert.equal(await store.exists(BUCKET, 'files/sized.bin'), false);
  });
});

describe('Azure multipart details', () => {
  it('a part shorter or longer than declared is Corrupt (no hang); the upload goes on', async () => {
    const upload = await store.createMultipart(BUCKET, 'multi/sizes.bin');
    await rejectsWith(upload.uploadPart(1, chunks(Buffer.from('short')), 6), 'Corrupt');
    await rejectsWith(upload.uploadPart(1, chunks(Buffer.from('too long')), 3), 'Corrupt');
    const part = await upload.uploadPart(1, chunks(Buffer.from('right')), 5);
    assert.equal((await upload.complete([part])).size, 5);
    assert.equal((await readAll((await store.get(BUCKET, 'multi/sizes.bin')).body)).toString(), 'right');
  });

  it('accepts an empty last part and refuses unknown or duplicate parts', async () => {
    const upload = await store.createMultipart(BUCKET, 'multi/empty-last.bin');
    const one = await upload.uploadPart(1, chunks(Buffer.from('data')), 4);
    const two = await upload.uploadPart(2, chunks(), 0);
    await rejectsWith(upload.complete([one, { ...two, partNumber: 3 }]), 'PreconditionFailed');
    await rejectsWith(upload.complete([one, one]), 'PreconditionFailed');
    await rejectsWith(upload.complete([]), 'PreconditionFailed');
    assert.equal((await upload.complete([one, two])).size, 4);
    await rejectsWith(upload.uploadPart(3, chunks(Buffer.from('late')), 4), 'NotFound');
  });

  it('ifNoneMatch makes complete fail when the key appeared meanwhile', async () => {
    const key = 'multi/create-only.bin';
    const upload = await store.createMultipart(BUCKET, key, { ifNoneMatch: true });
    const part = await upload.uploadPart(1, chunks(Buffer.from('mine')), 4);
    await store.put(BUCKET, key, chunks(Buffer.from('theirs')));
    await rejectsWith(upload.complete([part]), 'PreconditionFailed');
    assert.equal((await readAll((await store.get(BUCKET, key)).body)).toString(), 'theirs');
  });

  it('two uploads to one key stage separate blocks', async () => {
    const key = 'multi/two-writers.bin';
    const a = await store.createMultipart(BUCKET, key);
    const b = await store.createMultipart(BUCKET, key);
    const partA = await a.uploadPart(1, chunks(Buffer.from('from A')), 6);
    await b.uploadPart(1, chunks(Buffer.from('from B!')), 7);
    await a.complete([partA]);
    assert.equal((await readAll((await store.get(BUCKET, key)).body)).toString(), 'from A');
  });
});
