import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { isStorageError, type StorageErrorKind } from '../../src/storage/errors.ts';
import { contentTypeFor } from '../../src/storage/content-type.ts';
import { createLocalStore, type LocalStore } from '../../src/storage/providers/local/index.ts';
import { toStorageError } from '../../src/storage/providers/local/fs-errors.ts';

const B = 'bucket';
const storeModule = new URL('../../src/storage/providers/local/index.ts', import.meta.url);
const shmIsOtherFilesystem = await isOtherFilesystem('/dev/shm');

function bytes(...chunks: (string | Buffer)[]): Readable {
  return Readable.from(chunks.map((c) => Buffer.from(c)), { objectMode: false });
}

function failing(): Readable {
  return Readable.from((async function* () {
    yield Buffer.alloc(3 << 20, 1); // more than one write batch, so a partial temp file exists
    throw new Error('client went away');
  })(), { objectMode: false });
}

async function rejectsWith(promise: Promise<unknown>, kind: StorageErrorKind, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isStorageError(err, kind), `expected ${kind}, got ${String(err)}`);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

/** Every file and folder below `dir`, as sorted relative paths (folders end with `/`). */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => relative(dir, join(e.parentPath, e.name)) + (e.isDirectory() ? '/' : '')).sort();
}

async function text(store: LocalStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of (await store.get(B, key)).body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('local store', () => {
  let root: string;
  let outside: string;
  let store: LocalStore;
  let bucketDir: string;

  before(async () => {
    outside = await mkdtemp(join(tmpdir(), 'stowage-outside-'));
  });
  after(async () => {
    await rm(outside, { recursive: true, force: true });
  });
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'stowage-local-'));
    store = createLocalStore({ root });
    await store.ensureBucket(B);
    bucketDir = join(root, B);
  });
  afterEach(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  it('lays objects out exactly as root/<bucket>/<key>', async () => {
    await store.put(B, 'images/2024/cat.jpg', bytes('meow'));
    await store.put(B, 'top.txt', bytes('top'));
    await store.putFile(B, 'docs/readme.md', await scratchFile('# hi'));
    assert.deepEqual(await tree(bucketDir), ['docs/', 'docs/readme.md', 'images/', 'images/2024/', 'images/2024/cat.jpg', 'top.txt']);
    assert.equal(await readFile(join(bucketDir, 'images/2024/cat.jpg'), 'utf8'), 'meow');
    assert.equal(store.tmpDir, join(root, '.tmp'));
    assert.deepEqual(await readdir(root), ['.tmp', B].sort());
    assert.deepEqual(await readdir(store.tmpDir), []);
    assert.equal((await store.head(B, 'images/2024/cat.jpg')).contentType, 'image/jpeg');
  });

  it('leaves nothing in the bucket or tmp folder after failed and aborted writes', async () => {
    await store.put(B, 'kept.txt', bytes('kept'));
    await rejectsWith(store.put(B, 'new/dir/fail.bin', failing()), 'Internal', /client went away/);
    await rejectsWith(store.put(B, 'kept.txt', failing()), 'Internal');
    await rejectsWith(store.put(B, 'sized.bin', bytes('12345'), { size: 4 }), 'Corrupt');
    const controller = new AbortController();
    controller.abort();
    await rejectsWith(store.put(B, 'aborted.bin', bytes('x'), { signal: controller.signal }), 'Internal', /aborted/);
    const upload = await store.createMultipart(B, 'mp.bin');
    await upload.uploadPart(1, bytes('part'), 4);
    await rejectsWith(upload.uploadPart(2, bytes('short'), 10), 'Corrupt');
    await upload.abort();
    assert.deepEqual(await tree(bucketDir), ['kept.txt']);
    assert.equal(await text(store, 'kept.txt'), 'kept');
    assert.deepEqual(await readdir(store.tmpDir), []);
  });

  it('keeps multipart parts in tmpDir/<uploadId>/<partNumber> until completed', async () => {
    const upload = await store.createMultipart(B, 'video/clip.mp4');
    const p2 = await upload.uploadPart(2, bytes('world'), 5);
    const p1 = await upload.uploadPart(1, bytes('hello '), 6);
    assert.deepEqual(await tree(join(store.tmpDir, upload.uploadId)), ['1', '2']);
    assert.deepEqual(await tree(bucketDir), []);
    await rejectsWith(upload.complete([p1, p2, { partNumber: 3, etag: p1.etag, size: 1 }]), 'PreconditionFailed', /part 3/);
    await rejectsWith(upload.complete([p1, p1]), 'PreconditionFailed', /twice/);
    await rejectsWith(upload.uploadPart(0, bytes('x'), 1), 'InvalidKey');
    const info = await upload.complete([p2, p1]);
    assert.equal(info.size, 11);
    assert.equal(info.contentType, 'video/mp4');
    assert.equal(await text(store, 'video/clip.mp4'), 'hello world');
    assert.deepEqual(await readdir(store.tmpDir), []);
    await rejectsWith(upload.uploadPart(3, bytes('late'), 4), 'NotFound');
  });

  it('close aborts the multipart uploads still open', async () => {
    const upload = await store.createMultipart(B, 'open.bin');
    await upload.uploadPart(1, bytes('dangling'), 8);
    await store.close();
    assert.deepEqual(await readdir(store.tmpDir), []);
  });

  it('ifNoneMatch lets exactly one of many concurrent writers win', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => store.put(B, 'race/once.txt', bytes(`writer ${i}`), { ifNoneMatch: true })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.ok(isStorageError(r.reason, 'PreconditionFailed'), String(r.reason));
    }
    assert.match(await text(store, 'race/once.txt'), /^writer \d+$/);
    // An existing key fails fast, without waiting for a body that may never end.
    const endless = new Readable({ read() { setTimeout(() => this.push(Buffer.alloc(1024)), 1); } });
    await rejectsWith(store.put(B, 'race/once.txt', endless, { ifNoneMatch: true }), 'PreconditionFailed');
    endless.destroy();
    assert.deepEqual(await readdir(store.tmpDir), []);
  });

  it('recreates a tmp folder removed while running', async () => {
    await store.put(B, 'one.txt', bytes('1'));
    await rm(store.tmpDir, { recursive: true });
    await store.put(B, 'two.txt', bytes('2'));
    assert.equal(await text(store, 'two.txt'), '2');
  });

  it('reports a file/folder collision as InvalidKey', async () => {
    await store.put(B, 'a', bytes('file a'));
    await rejectsWith(store.put(B, 'a/b', bytes('x')), 'InvalidKey', /collides/);
    await rejectsWith(store.put(B, 'a/b/c', bytes('x'), { ifNoneMatch: true }), 'InvalidKey', /collides/);
    await store.put(B, 'd/e', bytes('file d/e'));
    await rejectsWith(store.put(B, 'd', bytes('x')), 'InvalidKey', /collides/);
    await rejectsWith(store.put(B, 'd', bytes('x'), { ifNoneMatch: true }), 'InvalidKey', /collides/);
    await rejectsWith(store.copy(B, 'a', B, 'd'), 'InvalidKey');
    await rejectsWith(store.get(B, 'd'), 'NotFound');
    await rejectsWith(store.get(B, 'a/b'), 'NotFound');
    await store.delete(B, 'd'); // a folder is not an object: nothing to delete
    assert.deepEqual(await tree(bucketDir), ['a', 'd/', 'd/e']);
    assert.deepEqual(await readdir(store.tmpDir), []);
  });

  it('removes emptied parent folders on delete, up to the bucket folder', async () => {
    await store.put(B, 'p/q/r/s.txt', bytes('deep'));
    await store.put(B, 'p/t.txt', bytes('shallow'));
    await store.delete(B, 'p/q/r/s.txt');
    assert.deepEqual(await tree(bucketDir), ['p/', 'p/t.txt']);
    await store.delete(B, 'p/t.txt');
    assert.deepEqual(await tree(bucketDir), []);
    assert.ok((await stat(bucketDir)).isDirectory());
  });

  it('refuses symbolic links that lead out of the bucket', async () => {
    await writeFile(join(outside, 'secret.txt'), 'secret');
    await symlink(join(outside, 'secret.txt'), join(bucketDir, 'evil.txt'));
    await symlink(outside, join(bucketDir, 'door'));
    await rejectsWith(store.get(B, 'evil.txt'), 'PermissionDenied');
    await rejectsWith(store.head(B, 'evil.txt'), 'PermissionDenied');
    await rejectsWith(store.get(B, 'door/secret.txt'), 'PermissionDenied');
    await rejectsWith(store.copy(B, 'door/secret.txt', B, 'stolen.txt'), 'PermissionDenied');
    await rejectsWith(store.put(B, 'door/planted.txt', bytes('x')), 'PermissionDenied');
    await rejectsWith(store.put(B, 'door/sub/planted.txt', bytes('x')), 'PermissionDenied');
    await rejectsWith(store.delete(B, 'door/secret.txt'), 'PermissionDenied');
    assert.deepEqual(await readdir(outside), ['secret.txt']);
    assert.deepEqual((await store.list(B)).objects, []);
    assert.deepEqual((await store.list(B, { prefix: 'door/' })).objects, []);
  });

  it('follows symbolic links that stay inside the bucket', async () => {
    await store.put(B, 'real/file.txt', bytes('real'));
    await symlink(join(bucketDir, 'real/file.txt'), join(bucketDir, 'alias.txt'));
    assert.equal(await text(store, 'alias.txt'), 'real');
    assert.deepEqual((await store.list(B)).objects.map((o) => o.key), ['alias.txt', 'real/file.txt']);
  });

  it('leaves no visible object when the writing process is killed mid-write', async () => {
    await store.put(B, 'victim.bin', bytes('previous'));
    const child = spawnSlowWriter(root);
    await waitFor(async () => (await readdir(store.tmpDir)).length > 0 && (await stat(join(store.tmpDir, (await readdir(store.tmpDir))[0] ?? ''))).size > 0);
    assert.equal(await text(store, 'victim.bin'), 'previous');
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(await text(store, 'victim.bin'), 'previous');
    assert.equal(await store.exists(B, 'fresh.bin'), false);
    assert.deepEqual(await tree(bucketDir), ['victim.bin']);
    assert.equal(await store.sweepTmp({ olderThanMs: 60_000 }), 0);
    assert.ok(await store.sweepTmp({ olderThanMs: 0 }) >= 1);
    assert.deepEqual(await readdir(store.tmpDir), []);
  });

  it('gives a new etag on every rewrite, even with identical content', async () => {
    const first = await store.put(B, 'same.txt', bytes('same'));
    const second = await store.put(B, 'same.txt', bytes('same'));
    assert.notEqual(first.etag, second.etag);
    assert.equal((await store.head(B, 'same.txt')).etag, second.etag);
  });

  it('refuses any range on a 0-byte object and malformed ranges', async () => {
    await store.put(B, 'empty', bytes());
    await rejectsWith(store.get(B, 'empty', { range: { start: 0 } }), 'InvalidRange');
    await store.put(B, 'ten', bytes('0123456789'));
    await rejectsWith(store.get(B, 'ten', { range: { start: 5, end: 2 } }), 'InvalidRange');
    await rejectsWith(store.get(B, 'ten', { range: { start: -1 } }), 'InvalidRange');
  });

  it('putFile moves the file in (same inode) and refuses a size mismatch', async () => {
    const file = await scratchFile('moved content');
    const inode = (await stat(file)).ino;
    await store.putFile(B, 'moved.txt', file);
    assert.equal((await stat(join(bucketDir, 'moved.txt'))).ino, inode);
    await assert.rejects(lstat(file), { code: 'ENOENT' });
    const other = await scratchFile('abc');
    await rejectsWith(store.putFile(B, 'wrong.txt', other, { size: 4 }), 'Corrupt');
    await rejectsWith(store.putFile(B, 'missing.txt', join(outside, 'no-such-file')), 'NotFound');
    const existing = await scratchFile('again');
    await rejectsWith(store.putFile(B, 'moved.txt', existing, { ifNoneMatch: true }), 'PreconditionFailed');
    assert.equal(await readFile(existing, 'utf8'), 'again'); // handed back to the caller
    assert.deepEqual(await readdir(store.tmpDir), []);
  });

  it('works with a tmpDir on another filesystem', { skip: !shmIsOtherFilesystem }, async () => {
    const tmp = await mkdtemp('/dev/shm/stowage-tmp-');
    try {
      const remote = createLocalStore({ root, tmpDir: tmp });
      await remote.put(B, 'via-shm.txt', bytes('crossed filesystems'));
      await remote.putFile(B, 'file-via-shm.txt', await scratchFile('moved across', tmp));
      assert.equal(await text(store, 'via-shm.txt'), 'crossed filesystems');
      assert.equal(await text(store, 'file-via-shm.txt'), 'moved across');
      assert.deepEqual(await readdir(tmp), []);
      assert.deepEqual(await readdir(join(root, '.tmp')), []);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('refuses a tmpDir that is the root or inside a bucket', () => {
    assert.throws(() => createLocalStore({ root, tmpDir: root }), (err: unknown) => isStorageError(err, 'ConfigInvalid'));
    assert.throws(() => createLocalStore({ root, tmpDir: join(root, B, 'tmp') }), (err: unknown) => isStorageError(err, 'ConfigInvalid'));
    assert.doesNotThrow(() => createLocalStore({ root, tmpDir: join(root, '.cache', 'tmp') }));
  });

  it('lists only inside the bucket and validates tokens', async () => {
    await store.ensureBucket('neighbour');
    await store.put('neighbour', 'private.txt', bytes('x'));
    for (const prefix of ['../', '../neighbour/', '/', '..', 'a//']) {
      assert.deepEqual((await store.list(B, { prefix })).objects, [], prefix);
    }
    await rejectsWith(store.list(B, { continuationToken: 'not a token!' }), 'InvalidKey');
    await rejectsWith(store.list('missing-bucket'), 'NotFound');
    await rejectsWith(store.list('Bad_Bucket'), 'InvalidKey');
  });

  it('lists like a sorted-array model for random trees, prefixes, delimiters and page sizes', async () => {
    const keys = randomKeys(120, 7);
    for (const key of keys) await store.put(B, key, bytes(key));
    const sorted = [...keys].sort(compareUtf8);
    const random = seeded(11);
    for (let round = 0; round < 60; round++) {
      const from = sorted[Math.floor(random() * sorted.length)] ?? '';
      const prefix = from.slice(0, Math.floor(random() * (from.length + 1)));
      const delimiter = [undefined, '/', '-', 'Ａ'][round % 4];
      const startAfter = random() < 0.3 ? sorted[Math.floor(random() * sorted.length)] : undefined;
      const maxKeys = 1 + Math.floor(random() * 5);
      const options = { prefix, delimiter, startAfter };
      const got: string[] = [];
      let token: string | undefined;
      do {
        const page = await store.list(B, { ...options, maxKeys, continuationToken: token });
        assert.ok(page.objects.length + page.prefixes.length <= maxKeys);
        got.push(...mergePage(page));
        token = page.nextToken;
      } while (token !== undefined);
      assert.deepEqual(got, listModel(sorted, options), JSON.stringify({ ...options, maxKeys }));
    }
  });

  it('translates filesystem errors into StorageError kinds', async () => {
    await rejectsWith(store.put(B, `${'n'.repeat(300)}.bin`, bytes('x')), 'InvalidKey', /too long/);
    await rejectsWith(store.get(B, 'n'.repeat(300)), 'InvalidKey');
    const errno = (code: string) => Object.assign(new Error(code), { code });
    const cases: [string, StorageErrorKind][] = [
      ['ENOENT', 'NotFound'], ['EACCES', 'PermissionDenied'], ['EPERM', 'PermissionDenied'],
      ['ENOSPC', 'Unavailable'], ['ENAMETOOLONG', 'InvalidKey'], ['EIO', 'Internal'],
    ];
    for (const [code, kind] of cases) {
      const err = toStorageError(errno(code), { bucket: B, key: 'k' });
      assert.equal(err.kind, kind, code);
      assert.equal(err.provider, 'http');
      assert.equal(err.key, 'k');
      assert.equal((err.cause as Error).message, code);
    }
    assert.match(toStorageError(errno('ENOSPC'), {}).message, /disk full/);
  });

  it('guesses content types from extensions', () => {
    assert.equal(contentTypeFor('a/b/photo.JPG'), 'image/jpeg');
    assert.equal(contentTypeFor('x.webp'), 'image/webp');
    assert.equal(contentTypeFor('clip.mov'), 'video/quicktime');
    assert.equal(contentTypeFor('ann.json'), 'application/json');
    assert.equal(contentTypeFor('dir.png/noext'), 'application/octet-stream');
    assert.equal(contentTypeFor('.png'), 'application/octet-stream');
    assert.equal(contentTypeFor('archive.tar.gz'), 'application/gzip');
  });
});

let scratchDir: string | undefined;

async function scratchFile(content: string, dir?: string): Promise<string> {
  scratchDir ??= await mkdtemp(join(tmpdir(), 'stowage-scratch-'));
  const base = dir ?? scratchDir;
  await mkdir(base, { recursive: true });
  const file = join(base, `${Math.random().toString(36).slice(2)}.src`);
  await writeFile(file, content);
  return file;
}

after(async () => {
  if (scratchDir !== undefined) await rm(scratchDir, { recursive: true, force: true });
});

async function isOtherFilesystem(path: string): Promise<boolean> {
  try {
    return (await stat(path)).dev !== (await stat(tmpdir())).dev;
  } catch {
    return false;
  }
}

/** A child process that writes `victim.bin` (over the old one) and `fresh.bin` from endless slow streams. */
function spawnSlowWriter(root: string) {
  const script = `
    import { Readable } from 'node:stream';
    const { createLocalStore } = await import(${JSON.stringify(storeModule.href)});
    const store = createLocalStore({ root: process.env.STOWAGE_TEST_ROOT });
    const slow = () => new Readable({ read() { setTimeout(() => this.push(Buffer.alloc(256 * 1024, 9)), 5); } });
    await Promise.all([store.put('bucket', 'victim.bin', slow()), store.put('bucket', 'fresh.bin', slow())]);
  `;
  return spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, STOWAGE_TEST_ROOT: root },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** Random valid keys over a tiny alphabet, without file/folder collisions (`a` and `a/b`). */
function randomKeys(count: number, seed: number): string[] {
  const random = seeded(seed);
  const alphabet = ['a', 'b', '-', '0', 'Ａ', '😀', '.'];
  const keys = new Set<string>();
  while (keys.size < count) {
    const segments = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
      Array.from({ length: 1 + Math.floor(random() * 3) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
    if (segments.some((seg) => seg === '.' || seg === '..')) continue;
    keys.add(segments.join('/'));
  }
  const all = [...keys];
  return all.filter((key) => !all.some((other) => other.startsWith(`${key}/`)));
}

/** Objects as keys and common prefixes as `P:` entries, in listing order. */
function mergePage(page: { objects: readonly { key: string }[]; prefixes: readonly string[] }): string[] {
  const items = [...page.objects.map((o) => o.key), ...page.prefixes.map((p) => `P:${p}`)];
  return items.sort((a, b) => compareUtf8(a.replace(/^P:/, ''), b.replace(/^P:/, '')));
}

/** S3 listing semantics over a sorted array. */
function listModel(sorted: readonly string[], o: { prefix: string; delimiter: string | undefined; startAfter: string | undefined }): string[] {
  const out: string[] = [];
  for (const key of sorted) {
    if (!key.startsWith(o.prefix) || (o.startAfter !== undefined && compareUtf8(key, o.startAfter) <= 0)) continue;
    const cut = o.delimiter === undefined ? -1 : key.indexOf(o.delimiter, o.prefix.length);
    const item = cut < 0 ? key : `P:${key.slice(0, cut + (o.delimiter?.length ?? 0))}`;
    if (out.at(-1) !== item) out.push(item);
  }
  return out;
}
