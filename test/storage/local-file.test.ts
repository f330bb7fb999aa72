import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStorageError, type StorageErrorKind } from '../../src/storage/errors.ts';
import { createLocalStore, type LocalStore } from '../../src/storage/providers/local/index.ts';
import { OVERRUNS_TO_CLOSE } from '../../src/storage/providers/local/sync-gate.ts';
import { slowDiskLog } from '../../src/storage/provider-factory.ts';

const B = 'bucket';

async function rejectsWith(promise: Promise<unknown>, kind: StorageErrorKind): Promise<void> {
  await assert.rejects(promise, (err: unknown) => isStorageError(err, kind) || assert.fail(`expected ${kind}, got ${String(err)}`));
}

/** Thread-pool file-system requests in flight (FSReqPromise, FSReqCallback). */
function fsRequests(): number {
  return process.getActiveResourcesInfo().filter((r) => r.startsWith('FSReq')).length;
}

// The same answers whether the steps run on the event loop (the default; a budget no test machine
// overruns keeps them there) or in the thread pool.
for (const [mode, syncBudgetMs] of [['on the event loop', 60_000], ['in the thread pool', 0]] as const) {
  describe(`local store localFile, steps ${mode}`, () => {
    let root: string;
    let outside: string;
    let store: LocalStore;

    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'stowage-local-file-'));
      outside = await mkdtemp(join(tmpdir(), 'stowage-local-file-outside-'));
      store = createLocalStore({ root, syncBudgetMs });
      await mkdir(join(root, B, 'real'), { recursive: true });
      await writeFile(join(root, B, 'real', 'a.bin'), Buffer.from('0123456789'));
      await writeFile(join(outside, 'secret.txt'), 'secret');
      await symlink(join(root, B, 'real', 'a.bin'), join(root, B, 'alias.bin'));
      await symlink(join(outside, 'secret.txt'), join(root, B, 'evil.txt'));
      await symlink(outside, join(root, B, 'door'));
    });
    after(async () => {
      await rm(root, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    });

    it('gives the real path and the head asked for', async () => {
      const found = await store.localFile(B, 'real/a.bin', { headBytes: 4 });
      assert.equal(found.path, join(root, B, 'real', 'a.bin'));
      assert.equal(found.head.toString(), '0123');
    });

    it('follows a symbolic link inside the bucket to its real path', async () => {
      const found = await store.localFile(B, 'alias.bin', { headBytes: 64 });
      assert.equal(found.path, join(root, B, 'real', 'a.bin'));
      assert.equal(found.head.toString(), '0123456789');
    });

    it('refuses symbolic links out of the bucket', async () => {
      await rejectsWith(store.localFile(B, 'evil.txt', { headBytes: 4 }), 'PermissionDenied');
      await rejectsWith(store.localFile(B, 'door/secret.txt', { headBytes: 4 }), 'PermissionDenied');
    });

    it('is NotFound for a missing object, a folder, a FIFO (without blocking) and a missing bucket', async () => {
      execFileSync('mkfifo', [join(root, B, 'pipe')]);
      await rejectsWith(store.localFile(B, 'real/nope.bin', { headBytes: 4 }), 'NotFound');
      await rejectsWith(store.localFile(B, 'real', { headBytes: 4 }), 'NotFound');
      await rejectsWith(store.localFile(B, 'pipe', { headBytes: 4 }), 'NotFound');
      await rejectsWith(store.localFile('nobucket', 'a.bin', { headBytes: 4 }), 'NotFound');
    });

    it('refuses an invalid key', async () => {
      await rejectsWith(store.localFile(B, '../x', { headBytes: 4 }), 'InvalidKey');
    });

    it(syncBudgetMs === 0 ? 'goes through the thread pool' : 'leaves no thread-pool request behind', async () => {
      const before = fsRequests();
      const pending = store.localFile(B, 'real/a.bin', { headBytes: 4 });
      const during = fsRequests() - before;
      await pending;
      if (syncBudgetMs === 0) assert.ok(during > 0, 'an fs request is in flight');
      else assert.equal(during, 0, 'every step ran before the call returned');
    });
  });
}

describe('local store localFile on a slow disk', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'stowage-local-file-slow-'));
    await mkdir(join(root, B), { recursive: true });
    await writeFile(join(root, B, 'a.bin'), Buffer.from('0123456789'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('moves to the thread pool once enough reads overran, and says so once, naming the folder', async () => {
    const told: string[] = [];
    // A budget every read overruns stands in for a slow disk.
    const store = createLocalStore({ root, syncBudgetMs: 1e-9, onSlowDisk: (m) => told.push(m) });
    for (let i = 0; i < OVERRUNS_TO_CLOSE; i++) assert.equal((await store.localFile(B, 'a.bin', { headBytes: 2 })).head.toString(), '01');
    assert.equal(told.length, 1);
    assert.match(told[0] ?? '', new RegExp(`local disk ${root} is slow: .* thread pool`));
    const before = fsRequests();
    const pending = store.localFile(B, 'a.bin', { headBytes: 2 });
    assert.ok(fsRequests() > before, 'the next read goes through the thread pool');
    assert.equal((await pending).head.toString(), '01');
    assert.equal(told.length, 1);
  });

  it('the server warns of it at most once an hour, the repeats at debug level', () => {
    const lines: string[] = [];
    const report = slowDiskLog({ warn: (m) => lines.push(`warn ${m}`), debug: (m) => lines.push(`debug ${m}`) });
    report('slow');
    report('slow again');
    assert.deepEqual(lines, ['warn slow', 'debug slow again']);
  });
});
