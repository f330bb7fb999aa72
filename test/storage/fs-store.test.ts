import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createFsStore } from '../../src/storage/providers/fs/index.ts';
import { isStorageError, type StorageErrorKind } from '../../src/storage/errors.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { parseLink } from '../../src/links/link-url.ts';
import { AppError } from '../../src/errors.ts';

async function readAll(body: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function rejectsWith(p: Promise<unknown>, kind: StorageErrorKind, text?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isStorageError(err), `expected a StorageError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    assert.equal(err.provider, 'fs');
    if (text !== undefined) assert.match(err.message, text);
    return true;
  });
}

const BYTES = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

describe('fs store (host folder, read-only)', () => {
  let root: string;
  let host: string;
  let store: ObjectStore;
  let socketServer: Server;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'stowage-fs-store-'));
    host = join(root, 'datasets');
    await mkdir(join(host, 'persons'), { recursive: true });
    await mkdir(join(root, 'outside'));
    await writeFile(join(host, 'persons', 'image1.jpg'), BYTES);
    await writeFile(join(host, 'notes.txt'), 'hello');
    await writeFile(join(root, 'outside', 'secret.txt'), 'secret');
    await symlink(join(root, 'outside', 'secret.txt'), join(host, 'link-out.txt'));
    await symlink(join(root, 'outside'), join(host, 'dir-out'));
    await symlink('notes.txt', join(host, 'link-in.txt'));
    execFileSync('mkfifo', [join(host, 'pipe.jpg')]);
    socketServer = createServer();
    await new Promise<void>((resolve) => socketServer.listen(join(host, 'sock.jpg'), resolve));
    store = createFsStore({ folders: { 'local-datasets': host }, name: 'host' });
  });

  after(async () => {
    await store.close();
    await new Promise((resolve) => socketServer.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  it('reads a file, whole and by ranges, with its metadata', async () => {
    const whole = await store.get('local-datasets', 'persons/image1.jpg');
    assert.deepEqual(await readAll(whole.body), BYTES);
    assert.equal(whole.info.size, 1000);
    const part = await store.get('local-datasets', 'persons/image1.jpg', { range: { start: 10, end: 19 } });
    assert.deepEqual(part.range, { start: 10, end: 19 });
    assert.deepEqual(await readAll(part.body), BYTES.subarray(10, 20));
    const tail = await store.get('local-datasets', 'persons/image1.jpg', { range: { start: 990 } });
    assert.deepEqual(await readAll(tail.body), BYTES.subarray(990));
    await rejectsWith(store.get('local-datasets', 'persons/image1.jpg', { range: { start: 1000 } }), 'InvalidRange');
    assert.equal((await store.head('local-datasets', 'persons/image1.jpg')).size, 1000);
    assert.equal(await store.exists('local-datasets', 'persons/image1.jpg'), true);
    assert.equal(await store.exists('local-datasets', 'persons/nope.jpg'), false);
  });

  it('follows symbolic links that stay inside the folder', async () => {
    assert.equal((await readAll((await store.get('local-datasets', 'link-in.txt')).body)).toString(), 'hello');
  });

  it('lists regular files and folders only: no links out, FIFOs or sockets', async () => {
    const page = await store.list('local-datasets');
    assert.deepEqual(page.objects.map((o) => o.key), ['link-in.txt', 'notes.txt', 'persons/image1.jpg']);
    const top = await store.list('local-datasets', { delimiter: '/' });
    assert.deepEqual(top.prefixes, ['persons/']);
  });

  it('refuses "..", absolute paths and backslashes as InvalidKey', async () => {
    await rejectsWith(store.get('local-datasets', '../outside/secret.txt'), 'InvalidKey');
    await rejectsWith(store.get('local-datasets', 'persons/../../outside/secret.txt'), 'InvalidKey');
    await rejectsWith(store.get('local-datasets', '/etc/passwd'), 'InvalidKey');
    await rejectsWith(store.head('local-datasets', '..\\outside\\secret.txt'), 'InvalidKey');
    await rejectsWith(store.get('local-datasets', 'persons/\u0000x'), 'InvalidKey');
  });

  it('never decodes keys, and fs:// links with encoded ".." are refused', async () => {
    // The store takes "%2e%2e" literally: a file of that name, which does not exist.
    await rejectsWith(store.get('local-datasets', '%2e%2e/outside/secret.txt'), 'NotFound');
    for (const link of ['fs://local-datasets/%2e%2e/outside/secret.txt', 'fs://local-datasets/a/%2E%2E%2F..%2Fsecret', 'fs://local-datasets/%252e%252e/x', 'fs://local-datasets/a%00b']) {
      assert.throws(() => parseLink(link), (err: unknown) => err instanceof AppError && err.kind === 'InvalidInput' && /encoded/.test(err.message), link);
    }
    assert.equal(parseLink('fs://local-datasets/persons/100%25.jpg').kind, 'bucket');
  });

  it('refuses symbolic links leading out of the folder (PermissionDenied)', async () => {
    await rejectsWith(store.get('local-datasets', 'link-out.txt'), 'PermissionDenied', /outside/);
    await rejectsWith(store.get('local-datasets', 'dir-out/secret.txt'), 'PermissionDenied', /outside/);
    await rejectsWith(store.head('local-datasets', 'dir-out/secret.txt'), 'PermissionDenied');
  });

  it('refuses FIFOs and sockets without blocking (PermissionDenied)', async () => {
    await rejectsWith(store.get('local-datasets', 'pipe.jpg'), 'PermissionDenied', /FIFO/);
    await rejectsWith(store.head('local-datasets', 'pipe.jpg'), 'PermissionDenied', /FIFO/);
    await rejectsWith(store.get('local-datasets', 'sock.jpg'), 'PermissionDenied', /socket/);
  });

  it('a folder is not an object; an unknown storage id is NotFound', async () => {
    await rejectsWith(store.get('local-datasets', 'persons'), 'NotFound');
    await rejectsWith(store.get('other-datasets', 'persons/image1.jpg'), 'NotFound', /not served/);
    await rejectsWith(store.list('other-datasets'), 'NotFound');
  });

  it('refuses every write while read-only, naming the setting', async () => {
    assert.equal(store.capabilities.multipart, false);
    await rejectsWith(store.put('local-datasets', 'new.txt', Readable.from([Buffer.from('x')])), 'PermissionDenied', /writable: true/);
    await rejectsWith(store.delete('local-datasets', 'notes.txt'), 'PermissionDenied');
    await rejectsWith(store.copy('local-datasets', 'notes.txt', 'local-datasets', 'copy.txt'), 'PermissionDenied');
    await rejectsWith(store.createMultipart('local-datasets', 'big.bin'), 'PermissionDenied');
    assert.equal(await store.exists('local-datasets', 'notes.txt'), true);
  });

  it('never creates the host folder', async () => {
    const missing = createFsStore({ folders: { gone: join(root, 'not-there') } });
    await rejectsWith(missing.ensureBucket('gone'), 'NotFound');
    await rejectsWith(missing.get('gone', 'a.jpg'), 'NotFound');
    assert.throws(() => createFsStore({ folders: { rel: 'relative/path' } }), (err: unknown) => isStorageError(err, 'ConfigInvalid'));
  });
});

describe('fs store (writable)', () => {
  let host: string;
  let store: ObjectStore;

  before(async () => {
    host = await mkdtemp(join(tmpdir(), 'stowage-fs-writable-'));
    store = createFsStore({ folders: { migrated: host }, writable: true, name: 'target' });
  });

  after(async () => {
    await store.close();
    await rm(host, { recursive: true, force: true });
  });

  it('writes atomically and hides its temp folder', async () => {
    await store.put('migrated', 'cars/a.bin', Readable.from([BYTES]));
    assert.deepEqual(await readAll((await store.get('migrated', 'cars/a.bin')).body), BYTES);
    assert.ok((await readdir(host)).includes('.stowage-tmp'), 'temp files live inside the folder (same filesystem)');
    const page = await store.list('migrated');
    assert.deepEqual(page.objects.map((o) => o.key), ['cars/a.bin']);
    assert.deepEqual((await store.list('migrated', { delimiter: '/' })).prefixes, ['cars/']);
    await rejectsWith(store.put('migrated', '.stowage-tmp/x.bin', Readable.from([BYTES])), 'InvalidKey', /reserved/);
    await rejectsWith(store.get('migrated', '.stowage-tmp/x.bin'), 'InvalidKey');
    await store.delete('migrated', 'cars/a.bin');
    assert.equal(await store.exists('migrated', 'cars/a.bin'), false);
  });
});
