import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../src/errors.ts';
import type { Catalog, StoredConnection } from '../../src/catalog/types.ts';
import { ConnectionManager, type ReloadResult } from '../../src/links/connections.ts';
import { defaultStoreFactory, type StoreFactory } from '../../src/links/connection-stores.ts';
import { LinkRegistry } from '../../src/links/registry.ts';
import { RemoteLinksError } from '../../src/links/remote-links-file.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';

/** A store that only records being closed; `label` tells builds apart. */
interface FakeStore extends ObjectStore {
  readonly label: string;
  closed: boolean;
}

function fakeFactory(): { build: StoreFactory; built: FakeStore[] } {
  const built: FakeStore[] = [];
  const real = defaultStoreFactory();
  const build: StoreFactory = async (name, settings) => {
    if (settings.provider === 'fs') return real(name, settings); // exercises the folder check
    const store = { provider: settings.provider, label: `${name}#${built.length}`, closed: false, close: async () => { store.closed = true; } };
    built.push(store as unknown as FakeStore);
    return store as unknown as FakeStore;
  };
  return { build, built };
}

function memoryCatalog(): Pick<Catalog, 'connections'> {
  const rows = new Map<string, StoredConnection>();
  let id = 0;
  const now = () => new Date().toISOString();
  return {
    connections: {
      list: async () => [...rows.values()],
      get: async (name) => rows.get(name),
      create: async (c) => {
        if (rows.has(c.name)) throw new AppError('Conflict', 'taken', { type: 'NONUNIQUE' });
        const row = { id: ++id, ...c, createdAt: now(), updatedAt: now() };
        rows.set(c.name, row);
        return row;
      },
      update: async (name, c) => {
        const row = rows.get(name);
        if (row === undefined) return undefined;
        const next = { ...row, ...c, updatedAt: now() };
        rows.set(name, next);
        return next;
      },
      remove: async (name) => rows.delete(name),
    },
  };
}

const s3 = (name: string, buckets: string[]) => `${name}:\n  provider: minio\n  endpoint: http://127.0.0.1:9\n  iam_role: reader\n  buckets: [${buckets.join(', ')}]\n`;

/** Resolves with the first `reload` event that satisfies `pred` (register before changing the file). */
function nextReload(m: ConnectionManager, pred: (r: ReloadResult) => boolean = () => true): Promise<ReloadResult> {
  return new Promise((resolve) => {
    const on = (r: ReloadResult) => {
      if (!pred(r)) return;
      m.off('reload', on);
      resolve(r);
    };
    m.on('reload', on);
  });
}

/** Replaces the file the way most editors do: write a new file, rename it over the old one. */
async function replaceFile(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

describe('ConnectionManager', () => {
  let dir: string;
  let path: string;
  let registry: LinkRegistry;
  let warnings: Array<{ obj: object; msg: string }>;
  let manager: ConnectionManager | undefined;
  let factory: ReturnType<typeof fakeFactory>;

  const log = { info: () => undefined, warn: (obj: object, msg: string) => void warnings.push({ obj, msg }) };
  const start = async (catalog = memoryCatalog()) => {
    manager = new ConnectionManager({ path, registry, catalog, log, buildStore: factory.build, debounceMs: 20, pollIntervalMs: 50, closeGraceMs: 0 });
    await manager.start();
    return manager;
  };
  const names = () => registry.list().map((c) => c.name).sort();
  const storeOf = (name: string) => registry.list().find((c) => c.name === name)?.store as FakeStore | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-connections-'));
    path = join(dir, 'remote_links.yml');
    registry = new LinkRegistry();
    warnings = [];
    factory = fakeFactory();
  });

  afterEach(async () => {
    await manager?.close();
    manager = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('a missing file means no file connections', async () => {
    await start();
    assert.deepEqual(names(), []);
  });

  it('a broken file stops the start with every line to fix', async () => {
    await writeFile(path, `${s3('one', ['b1'])}two:\n  provider: fs\n  buckets: [x1y]\n`);
    await assert.rejects(start(), (err: unknown) => {
      assert.ok(err instanceof RemoteLinksError);
      assert.deepEqual(err.problems, [`${path}:6: two.path: required for provider fs: the folder on this server`]);
      return true;
    });
    assert.deepEqual(names(), []);
  });

  it('a file connection whose folder is missing stops the start, naming the line and the field', async () => {
    await writeFile(path, `# host data\nhost:\n  provider: fs\n  path: ${join(dir, 'missing')}\n  buckets: [local-datasets]\n`);
    await assert.rejects(start(), /remote_links\.yml:2: host\.path: .*missing: folder cannot be used \(ENOENT\)/);
  });

  it('reloads on change, keeps unchanged stores, closes removed and changed ones', async () => {
    await writeFile(path, s3('one', ['b1']) + s3('two', ['b2']));
    const m = await start();
    assert.deepEqual(names(), ['one', 'two']);
    const [one, two] = [storeOf('one'), storeOf('two')];

    let reloaded = nextReload(m);
    await replaceFile(path, s3('two', ['b2']) + s3('three', ['b3']));
    assert.deepEqual(await reloaded, { ok: true, errors: [] });
    assert.deepEqual(names(), ['three', 'two']);
    assert.equal(one?.closed, true, 'the removed connection\'s store is closed');
    assert.equal(storeOf('two'), two, 'an unchanged connection keeps its store');
    assert.equal(two?.closed, false);
    assert.equal(registry.resolve('s3://b3/x.jpg').connection, 'three');

    reloaded = nextReload(m);
    await replaceFile(path, s3('two', ['b2', 'b4']) + s3('three', ['b3']));
    await reloaded;
    assert.notEqual(storeOf('two'), two, 'a changed connection gets a new store');
    assert.equal(two?.closed, true, 'and its old store is closed');
    assert.equal(registry.resolve('minio://b4/y.png').connection, 'two');
  });

  it('picks up a file written in place, and a file created after the start', async () => {
    const m = await start();
    let reloaded = nextReload(m, () => names().includes('late'));
    await writeFile(path, s3('late', ['b1']));
    await reloaded;
    reloaded = nextReload(m, () => names().includes('again'));
    await writeFile(path, s3('again', ['b1']));
    await reloaded;
    assert.deepEqual(names(), ['again']);
  });

  it('a broken edit keeps the last good configuration and logs the line errors', async () => {
    await writeFile(path, s3('one', ['b1']));
    const m = await start();
    const store = storeOf('one');
    let reloaded = nextReload(m);
    await replaceFile(path, `${s3('one', ['b1'])}two:\n  provider: minio\n  iam_role: r\n  buckets: b2\n`);
    const result = await reloaded;
    assert.equal(result.ok, false);
    assert.deepEqual(result.errors, [`${path}:9: two.buckets: expected a list of bucket names`]);
    assert.deepEqual(names(), ['one']);
    assert.equal(storeOf('one'), store);
    assert.equal(store?.closed, false);
    const warning = warnings.find((w) => w.msg.includes('keeping the last good configuration'));
    assert.deepEqual((warning?.obj as { errors?: string[] }).errors, result.errors);

    // A file connection that cannot be built is a broken edit too.
    reloaded = nextReload(m);
    await replaceFile(path, `${s3('one', ['b1'])}host:\n  provider: fs\n  path: ${join(dir, 'nope')}\n  buckets: [local-datasets]\n`);
    assert.match((await reloaded).errors[0] ?? '', /remote_links\.yml:6: host\.path: .*nope: folder cannot be used/);
    assert.deepEqual(names(), ['one']);

    reloaded = nextReload(m);
    await replaceFile(path, s3('one', ['b1', 'b9']));
    assert.equal((await reloaded).ok, true);
    assert.ok(registry.resolve('s3://b9/k').store !== store);
  });

  it('serves fs connections from the file', async () => {
    const folder = join(dir, 'datasets');
    await mkdir(join(folder, 'persons'), { recursive: true });
    await writeFile(join(folder, 'persons', 'image1.jpg'), 'jpeg bytes');
    await writeFile(path, `local:\n  provider: fs\n  path: ${folder}\n  buckets: [local-datasets]\n`);
    await start();
    const r = registry.resolve('fs://local-datasets/persons/image1.jpg');
    assert.equal(r.store.provider, 'fs');
    assert.equal((await r.store.head(r.bucket, r.key)).size, 10);
  });

  it('API connections: added, refused on clashes, updated, removed (stores closed)', async () => {
    await writeFile(path, s3('from-file', ['shared']));
    const m = await start();
    const added = await m.add('api-one', { provider: 'minio', iam_role: 'reader', buckets: ['api-b'] });
    assert.equal(added.active, true);
    assert.equal(registry.resolve('s3://api-b/k').connection, 'api-one');

    const refuse = async (p: Promise<unknown>, kind: string, field: string) =>
      assert.rejects(p, (e: unknown) => e instanceof AppError && e.kind === kind && e.details?.['field'] === field);
    await refuse(m.add('from-file', { provider: 'minio', iam_role: 'r', buckets: ['zz'] }), 'Conflict', 'name');
    await refuse(m.add('api-one', { provider: 'minio', iam_role: 'r', buckets: ['zz'] }), 'Conflict', 'name');
    await refuse(m.add('api-two', { provider: 'minio', iam_role: 'r', buckets: ['shared'] }), 'InvalidInput', 'buckets.0');
    await refuse(m.add('api-two', { provider: 'minio', buckets: ['zz'] }), 'InvalidInput', 'access_key');
    await refuse(m.add('bad name', { provider: 'minio', iam_role: 'r', buckets: ['zz'] }), 'InvalidInput', 'name');
    await refuse(m.update('nobody', { region: 'x' }), 'NotFound', undefined as unknown as string);
    await refuse(m.update('from-file', { region: 'x' }), 'InvalidInput', 'name');
    await refuse(m.remove('from-file'), 'InvalidInput', 'name');

    const before = storeOf('api-one');
    const updated = await m.update('api-one', { buckets: ['api-b', 'api-c'], region: 'eu-west-1' });
    assert.deepEqual(updated.settings?.buckets, ['api-b', 'api-c']);
    assert.equal(before?.closed, true);
    assert.equal(registry.resolve('s3://api-c/k').connection, 'api-one');
    await m.update('api-one', { region: null });
    assert.equal(m.get('api-one')?.settings?.region, undefined);

    const last = storeOf('api-one');
    await m.remove('api-one');
    assert.equal(last?.closed, true);
    assert.deepEqual(names(), ['from-file']);
    await refuse(m.remove('api-one'), 'NotFound', undefined as unknown as string);
  });

  it('the file wins: an API connection it clashes with is shadowed until the file lets go', async () => {
    const catalog = memoryCatalog();
    await catalog.connections.create({ name: 'dup', provider: 'minio', settings: { provider: 'minio', iam_role: 'r', buckets: ['api-only'] } });
    await catalog.connections.create({ name: 'overlap', provider: 'minio', settings: { provider: 'minio', iam_role: 'r', buckets: ['from-file'] } });
    await writeFile(path, s3('dup', ['dup-b']) + s3('file-conn', ['from-file']));
    const m = await start(catalog);
    assert.deepEqual(names(), ['dup', 'file-conn']);
    assert.equal(registry.resolve('s3://dup-b/k').connection, 'dup');
    const views = Object.fromEntries(m.list().map((c) => [`${c.name}/${c.source}`, c]));
    assert.equal(views['dup/file']?.active, true);
    assert.equal(views['dup/api']?.active, false);
    assert.match(views['dup/api']?.problem ?? '', /file wins/);
    assert.match(views['overlap/api']?.problem ?? '', /already served by connection "file-conn"/);

    const reloaded = nextReload(m);
    await replaceFile(path, s3('other', ['o1']));
    await reloaded;
    assert.deepEqual(names(), ['dup', 'other', 'overlap']);
    assert.equal(registry.resolve('s3://api-only/k').connection, 'dup');
    assert.equal(registry.resolve('s3://from-file/k').connection, 'overlap');
  });

  it('close unregisters every connection and closes every store', async () => {
    await writeFile(path, s3('one', ['b1']));
    const m = await start();
    await m.add('two', { provider: 'minio', iam_role: 'r', buckets: ['b2'] });
    const stores = [storeOf('one'), storeOf('two')];
    await m.close();
    manager = undefined;
    assert.deepEqual(names(), []);
    assert.deepEqual(stores.map((s) => s?.closed), [true, true]);
  });
});

describe('connection replies', () => {
  it('mask keys, hide secrets and strip credentials from endpoints', async () => {
    const { publicSettings } = await import('../../src/links/connection-stores.ts');
    const shown = publicSettings({
      provider: 'azure', endpoint: 'https://acc.blob.core.windows.net/?sv=2020&sig=SIGNATURE', access_key: 'storageaccount42',
      secret_key: '?sv=2020&sig=SIGNATURE', buckets: ['boats'],
    });
    assert.deepEqual(shown, {
      provider: 'azure', endpoint: 'https://acc.blob.core.windows.net', access_key: '****nt42', secret_key: '****',
      iam_role: null, region: null, credentials_path: null, credentials_json: null, path: null, buckets: ['boats'], writable: null,
    });
    assert.equal(publicSettings({ provider: 'minio', access_key: 'short', secret_key: 'x', buckets: ['b'] }).access_key, '****');
    assert.equal(publicSettings({ provider: 'google', credentials_path: '/secret.json', buckets: ['b'] }).credentials_path, '/secret.json');
    assert.equal(publicSettings({ provider: 'google', credentials_json: '{"private_key": "-----BEGIN"}', buckets: ['b'] }).credentials_json, '****');
  });
});
