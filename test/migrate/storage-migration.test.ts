/**
 * `migrateStorage` from a local store to a real S3 peer (Ceph radosgw): dry
 * run, copy with MD5 verification, idempotent re-runs, conflicts (by size
 * and by checksum), include/exclude, and a source left untouched.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { createLocalStore, type LocalStore } from '../../src/storage/providers/local/index.ts';
import { createS3Store, type S3Store } from '../../src/storage/providers/s3/index.ts';
import { migrateStorage, type StorageMigrationOptions } from '../../src/migrate/storage-migration.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';
import { assertSameContents, contents, FAST_BACKOFF, fill, putBytes, sampleObjects } from './fixtures.ts';

const MiB = 1024 * 1024;

describe('migrate storage: local store to radosgw', () => {
  let rgw: Radosgw;
  let dir: string;
  let local: LocalStore;
  let s3: S3Store;
  const prefix = `mig-${randomUUID().slice(0, 8)}`;
  const buckets = [{ from: 'src-public', to: `${prefix}-public` }, { from: 'src-private', to: `${prefix}-private` }];
  let before1: Map<string, string>;

  const options = (o: Partial<StorageMigrationOptions> = {}): StorageMigrationOptions => ({
    source: local, target: s3, buckets, filter: { include: [], exclude: [] }, concurrency: 4,
    backoff: FAST_BACKOFF, dryRun: false, sizeOnly: false, multipartThreshold: 8 * MiB, ...o,
  });

  before(async () => {
    rgw = await startRadosgw();
    dir = await mkdtemp(join(tmpdir(), 'stowage-migrate-'));
    local = createLocalStore({ root: join(dir, 'storage'), tmpDir: join(dir, 'tmp') });
    s3 = createS3Store({ endpoint: rgw.endpoint, accessKey: rgw.accessKey, secretKey: rgw.secretKey });
    await fill(local, 'src-public', sampleObjects(40, 20 * MiB));
    await fill(local, 'src-private', new Map([['models/m.bin', randomBytes(3000)], ['tmp/note.txt', Buffer.from('x')]]));
    before1 = await contents(local, 'src-public');
  });
  after(async () => {
    await s3?.close();
    await rgw?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a dry run counts what would be copied and writes nothing', async () => {
    const r = await migrateStorage(options({ dryRun: true })).done;
    assert.deepEqual([r.objects, r.copied, r.present, r.conflicts, r.failed], [46, 46, 0, 0, 0]);
    assert.ok(r.bytes > 20 * MiB && r.copiedBytes === r.bytes);
    assert.equal((await s3.list(buckets[0]?.to ?? '').catch((err: { kind?: string }) => err.kind)), 'NotFound');
  });

  it('copies every object, verified by MD5 (multipart included), key for key', async () => {
    const run = migrateStorage(options());
    const r = await run.done;
    assert.deepEqual([r.copied, r.failed, r.present, r.verifiedMd5, r.verifiedSize], [46, 0, 0, 46, 0]);
    assert.equal(run.snapshot().total, 46);
    assert.equal(await assertSameContents(local, 'src-public', s3, `${prefix}-public`), 44);
    assert.equal(await assertSameContents(local, 'src-private', s3, `${prefix}-private`), 2);
    const big = await s3.head(`${prefix}-public`, 'videos/original/big.mp4');
    assert.match(big.etag, /-2"$/, 'the 20 MiB object went up in two parts');
  });

  it('a second run sends nothing: everything is present with the same checksum', async () => {
    const r = await migrateStorage(options()).done;
    assert.deepEqual([r.copied, r.present, r.conflicts, r.failed], [0, 46, 0, 0]);
  });

  it('finds conflicts by size and by checksum, and copies over them', async () => {
    const key = [...sampleObjects(40).keys()][5] ?? '';
    const orig = (await s3.head(`${prefix}-public`, key)).size;
    await putBytes(s3, `${prefix}-public`, key, randomBytes(orig));
    await putBytes(s3, `${prefix}-public`, 'a/b/c/deep.txt', Buffer.from('longer than before\n'));
    const dry = await migrateStorage(options({ dryRun: true })).done;
    assert.deepEqual([dry.conflicts, dry.present, dry.copied], [2, 44, 2]);
    const sizeOnly = await migrateStorage(options({ dryRun: true, sizeOnly: true })).done;
    assert.deepEqual([sizeOnly.conflicts, sizeOnly.present], [1, 45]);
    const r = await migrateStorage(options()).done;
    assert.deepEqual([r.conflicts, r.copied, r.present], [2, 2, 44]);
    await assertSameContents(local, 'src-public', s3, `${prefix}-public`);
  });

  it('copies only the included prefixes, minus the excluded ones', async () => {
    const other = [{ from: 'src-public', to: `${prefix}-subset` }];
    const r = await migrateStorage(options({ buckets: other, filter: { include: ['images/', 'a/'], exclude: ['a/b/'] } })).done;
    assert.equal(r.copied, 40);
    const keys = [...(await contents(s3, `${prefix}-subset`)).keys()];
    assert.ok(keys.every((k) => k.startsWith('images/')), keys.filter((k) => !k.startsWith('images/')).join());
  });

  it('never changes the source', async () => {
    assert.deepEqual(await contents(local, 'src-public'), before1);
  });
});
