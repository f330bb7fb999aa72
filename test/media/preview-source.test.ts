/**
 * Reading originals for previews (memory or spool file), their cache
 * identities, and the limit on work in flight.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AppError } from '../../src/errors.ts';
import { WorkSlots } from '../../src/media/convert-slots.ts';
import { loadInput, objectIdentity } from '../../src/media/preview-source.ts';
import { createLocalStore } from '../../src/storage/providers/local/index.ts';
import { countingStore } from '../helpers/counting-store.ts';

describe('preview sources', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'stowage-psrc-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  const chunks = (bytes: Buffer) => Readable.from([bytes.subarray(0, 700), bytes.subarray(700, 1500), bytes.subarray(1500)]);

  it('keeps small originals in memory and spools large ones to a file it removes', async () => {
    const bytes = randomBytes(3000);
    const small = await loadInput(chunks(bytes), dir, 5000);
    assert.ok(Buffer.isBuffer(small.data));
    assert.deepEqual(small.data, bytes);
    assert.deepEqual(small.head, bytes.subarray(0, 512));
    const large = await loadInput(chunks(bytes), dir, 1000);
    assert.equal(typeof large.data, 'string');
    assert.deepEqual(await readFile(large.data as string), bytes);
    assert.deepEqual(large.head, bytes.subarray(0, 512));
    await large.cleanup();
    await assert.rejects(access(large.data as string));
  });

  it('identifies content-addressed originals by key alone, others by ETag (one HEAD)', async () => {
    const local = createLocalStore({ root: join(dir, 'store') });
    await local.ensureBucket('bkt');
    const store = countingStore(local);
    const hex = 'ab'.repeat(32);
    const ca = { store, bucket: 'bkt', key: `images/original/ab/ab/${hex}.jpg` };
    await store.put('bkt', ca.key, Readable.from([Buffer.from('x')]));
    await store.put('bkt', 'other.jpg', Readable.from([Buffer.from('one')]));
    const headSpy = store.head.bind(store);
    let heads = 0;
    store.head = async (b, k) => { heads += 1; return headSpy(b, k); };
    assert.deepEqual(await objectIdentity(ca, store), { id: `bkt/${ca.key}`, immutable: true });
    assert.equal(heads, 0);
    assert.equal((await objectIdentity(ca, createLocalStore({ root: dir }))).immutable, false, 'only in the primary store');
    const first = await objectIdentity({ store, bucket: 'bkt', key: 'other.jpg' }, store);
    await store.put('bkt', 'other.jpg', Readable.from([Buffer.from('two!')]));
    const second = await objectIdentity({ store, bucket: 'bkt', key: 'other.jpg' }, store);
    assert.equal(first.immutable, false);
    assert.notEqual(first.id, second.id, 'a rewritten object gets a new identity');
  });
});

describe('work slots', () => {
  it('runs at most `limit` jobs, queues the rest in order, and refuses beyond the queue', async () => {
    const slots = new WorkSlots(2, 2);
    const order: number[] = [];
    const gates: Array<() => void> = [];
    const job = (n: number) => slots.run(async () => {
      order.push(n);
      await new Promise<void>((resolve) => gates.push(resolve));
    });
    const running = [job(1), job(2), job(3), job(4)];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([slots.active, slots.queued, order], [2, 2, [1, 2]]);
    await assert.rejects(slots.acquire(), (err: unknown) => err instanceof AppError && err.kind === 'Unavailable');
    while (gates.length > 0 || slots.active > 0) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(running);
    assert.deepEqual(order, [1, 2, 3, 4]);
    assert.deepEqual([slots.active, slots.queued], [0, 0]);
  });

  it('releases once however often release is called', async () => {
    const slots = new WorkSlots(1, 0);
    const release = await slots.acquire();
    release();
    release();
    assert.equal(slots.active, 0);
    const again = await slots.acquire();
    assert.equal(slots.active, 1);
    again();
  });
});
