/**
 * The Azure provider against Azurite when things are wrong: a bad key, a
 * read-only SAS, a missing container, an endpoint that refuses or never
 * answers. Error kinds must be right and messages free of secrets.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createAzureStore } from '../../src/storage/providers/azure/index.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { isStorageError, type StorageErrorKind } from '../../src/storage/errors.ts';
import { accountSas, startAzurite, type AzuritePeer } from '../helpers/peers/azurite.ts';

const BUCKET = 'access-tests';
const WRONG_KEY = Buffer.alloc(64, 42).toString('base64');

let peer: AzuritePeer;
let good: ObjectStore;
before(async () => {
  peer = await startAzurite();
  good = createAzureStore({ endpoint: peer.endpoint, accountName: peer.accountName, secret: peer.accountKey });
  await good.ensureBucket(BUCKET);
  await good.put(BUCKET, 'existing.txt', body('existing content'));
});
after(async () => {
  await good?.close();
  await peer?.stop();
});

function body(text: string): Readable {
  return Readable.from([Buffer.from(text)]);
}

function storeWith(secret: string, extra: Partial<Parameters<typeof createAzureStore>[0]> = {}): ObjectStore {
  return createAzureStore({ endpoint: peer.endpoint, accountName: peer.accountName, secret, ...extra });
}

/** Asserts the kind, and that neither the message nor the logged cause holds `secrets`. */
async function rejectsWith(promise: Promise<unknown>, kind: StorageErrorKind, secrets: readonly string[], pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isStorageError(err), `expected a StorageError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    if (pattern !== undefined) assert.match(err.message, pattern);
    const cause = err.cause instanceof Error ? `${err.cause.message} ${JSON.stringify(err.cause)}` : '';
    for (const secret of secrets) {
      assert.ok(!err.message.includes(secret) && !cause.includes(secret), `secret leaked: ${err.message} / ${cause}`);
    }
    return true;
  });
}

function sigOf(sas: string): string[] {
  const raw = /[?&]sig=([^&]+)/u.exec(sas)?.[1] ?? 'missing';
  return [raw, decodeURIComponent(raw)];
}

describe('Azure with a wrong account key', () => {
  it('fails every operation with Unauthenticated, naming the settings but not the key', async () => {
    const bad = storeWith(WRONG_KEY);
    const secrets = [WRONG_KEY, peer.accountKey];
    const hint = /STORAGE_ACCESS_KEY\/STORAGE_SECRET_KEY/u;
    try {
      await rejectsWith(bad.head(BUCKET, 'existing.txt'), 'Unauthenticated', secrets, hint);
      await rejectsWith(bad.exists(BUCKET, 'existing.txt'), 'Unauthenticated', secrets, hint);
      await rejectsWith(bad.get(BUCKET, 'existing.txt'), 'Unauthenticated', secrets, hint);
      await rejectsWith(bad.list(BUCKET), 'Unauthenticated', secrets, hint);
      await rejectsWith(bad.put(BUCKET, 'intruder.txt', body('x')), 'Unauthenticated', secrets, hint);
      await rejectsWith(bad.ensureBucket(BUCKET), 'Unauthenticated', secrets, hint);
    } finally {
      await bad.close();
    }
    assert.equal(await good.exists(BUCKET, 'intruder.txt'), false);
  });
});

describe('Azure with a read-only SAS token', () => {
  it('reads and lists, but every write fails with PermissionDenied and writes nothing', async () => {
    const sas = accountSas(peer, 'rl');
    const ro = storeWith(sas);
    const secrets = [sas, ...sigOf(sas)];
    try {
      const got = await ro.get(BUCKET, 'existing.txt');
      got.body.resume();
      assert.equal(got.info.size, 16);
      assert.equal((await ro.head(BUCKET, 'existing.txt')).size, 16);
      assert.deepEqual((await ro.list(BUCKET, { prefix: 'existing' })).objects.map((o) => o.key), ['existing.txt']);
      await rejectsWith(ro.put(BUCKET, 'ro/small.txt', body('x')), 'PermissionDenied', secrets, /write on access-tests\/ro\/small\.txt/u);
      await rejectsWith(ro.put(BUCKET, 'ro/big.bin', Readable.from([Buffer.alloc(9 * 1024 * 1024)])), 'PermissionDenied', secrets);
      const upload = await ro.createMultipart(BUCKET, 'ro/multi.bin');
      await rejectsWith(upload.uploadPart(1, body('part'), 4), 'PermissionDenied', secrets);
      await rejectsWith(ro.copy(BUCKET, 'existing.txt', BUCKET, 'ro/copy.txt'), 'PermissionDenied', secrets);
      await rejectsWith(ro.delete(BUCKET, 'existing.txt'), 'PermissionDenied', secrets, /delete/u);
      await rejectsWith(ro.ensureBucket('access-tests-new'), 'PermissionDenied', secrets);
      await ro.ensureBucket(BUCKET);
    } finally {
      await ro.close();
    }
    assert.deepEqual((await good.list(BUCKET, { prefix: 'ro/' })).objects, []);
    assert.equal(await good.exists(BUCKET, 'existing.txt'), true);
  });
});

describe('Azure with a missing container', () => {
  it('writes fail with ConfigInvalid naming the container; reads are NotFound', async () => {
    const hint = /container no-such-container does not exist: create it or set STORAGE_CREATE_BUCKETS=true/u;
    await rejectsWith(good.put('no-such-container', 'a.txt', body('x')), 'ConfigInvalid', [peer.accountKey], hint);
    const upload = await good.createMultipart('no-such-container', 'm.bin');
    await rejectsWith(upload.uploadPart(1, body('x'), 1), 'ConfigInvalid', [peer.accountKey], hint);
    await rejectsWith(good.get('no-such-container', 'a.txt'), 'NotFound', [peer.accountKey], hint);
    await rejectsWith(good.list('no-such-container'), 'NotFound', [peer.accountKey], hint);
    assert.equal(await good.exists('no-such-container', 'a.txt'), false);
  });
});

/** A TCP server that accepts connections and never answers. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('Azure endpoint unreachable', () => {
  it('a refused connection is Unavailable, naming the endpoint but not the SAS', async () => {
    const closed = await silentServer();
    await closed.close();
    const sas = accountSas(peer, 'rwdlacup');
    const store = createAzureStore({ endpoint: `http://127.0.0.1:${closed.port}/devstoreaccount1`, accountName: 'devstoreaccount1', secret: sas });
    try {
      const where = new RegExp(`http://127\\.0\\.0\\.1:${closed.port}/devstoreaccount1`, 'u');
      await rejectsWith(store.head(BUCKET, 'a.txt'), 'Unavailable', [sas, ...sigOf(sas)], where);
      await rejectsWith(store.put(BUCKET, 'a.txt', body('x')), 'Unavailable', [sas, ...sigOf(sas)], where);
      await rejectsWith(store.list(BUCKET), 'Unavailable', [sas, ...sigOf(sas)], where);
    } finally {
      await store.close();
    }
  });

  it('an endpoint that never answers is Unavailable after the request timeout, not a hang', { timeout: 30_000 }, async () => {
    const silent = await silentServer();
    const store = createAzureStore({
      endpoint: `http://127.0.0.1:${silent.port}/devstoreaccount1`,
      accountName: 'devstoreaccount1',
      secret: peer.accountKey,
      requestTimeoutMs: 300,
    });
    try {
      await rejectsWith(store.head(BUCKET, 'a.txt'), 'Unavailable', [peer.accountKey], /did not answer in time/u);
      await rejectsWith(store.put(BUCKET, 'a.txt', body('x')), 'Unavailable', [peer.accountKey]);
      await rejectsWith(store.get(BUCKET, 'a.txt'), 'Unavailable', [peer.accountKey]);
    } finally {
      await store.close();
      await silent.close();
    }
  });

  it('a reader pausing longer than the request timeout is not cut off', async () => {
    const data = Buffer.alloc(8 * 1024 * 1024, 7);
    await good.put(BUCKET, 'slow-reader.bin', Readable.from([data]));
    const store = storeWith(peer.accountKey, { requestTimeoutMs: 200 });
    try {
      const { body } = await store.get(BUCKET, 'slow-reader.bin');
      let received = 0;
      for await (const chunk of body) {
        // Pause once, after the socket has buffered what it can, for well over the timeout.
        if (received === 0) await new Promise((resolve) => setTimeout(resolve, 1000));
        received += (chunk as Buffer).length;
      }
      assert.equal(received, data.length);
    } finally {
      await store.close();
    }
  });
});
