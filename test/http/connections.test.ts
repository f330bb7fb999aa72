import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';
import { startRadosgw, type Radosgw } from '../helpers/peers/radosgw.ts';
import { createS3Store } from '../../src/storage/providers/s3/index.ts';

type Reply = Record<string, unknown>;

/** images.download of `id` with a Range header. */
async function downloadRange(t: TestApp, id: number, range: string): Promise<Response> {
  return fetch(`${t.baseUrl}/public/api/v3/images.download`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': t.adminKey, range }, body: JSON.stringify({ id }),
  });
}

async function get(t: TestApp, method: string, key = t.adminKey): Promise<Response> {
  return fetch(`${t.baseUrl}/public/api/v3/${method}`, { headers: { 'x-api-key': key } });
}

for (const backend of catalogBackends()) {
  describe(`remote connections API (${backend.name})`, () => {
    let t: TestApp;
    let rgw: Radosgw;
    let root: string;
    let hostJpeg: Buffer;
    let cloudJpeg: Buffer;
    let userKey: string;
    let datasetId: number;
    const bucket = `conn-${randomBytes(4).toString('hex')}`;

    before(async () => {
      rgw = await startRadosgw();
      root = await mkdtemp(join(tmpdir(), 'stowage-connections-api-'));
      const host = join(root, 'datasets');
      await mkdir(join(host, 'persons'), { recursive: true });
      hostJpeg = await makeJpeg(64, 48, { seed: 21 });
      await writeFile(join(host, 'persons', 'image1.jpg'), hostJpeg);
      const linksFile = join(root, 'remote_links.yml');
      await writeFile(linksFile, `# host folder\nlocal-datasets:\n  provider: fs\n  path: ${host}\n  buckets:\n  - local-datasets\n`);

      cloudJpeg = await makeJpeg(80, 60, { seed: 22 });
      const s3 = createS3Store({ endpoint: rgw.endpoint, accessKey: rgw.accessKey, secretKey: rgw.secretKey });
      await s3.ensureBucket(bucket);
      await s3.put(bucket, 'cars/truck.jpg', Readable.from([cloudJpeg]), { size: cloudJpeg.length });
      await s3.close();

      t = await startTestApp(backend.url(), { REMOTE_LINKS_PATH: linksFile });
      userKey = (await t.app.services.auth.createKey('user-ci', 'user')).key;
      const project = await t.ok('projects.add', { name: 'linked', workspaceId: 1, type: 'images' });
      datasetId = (await t.ok('datasets.add', { projectId: project.id, name: 'ds' })).id;
    });

    after(async () => {
      await t?.close();
      await rm(root, { recursive: true, force: true });
    });

    it('lists the file connection, masked, to admins only', async () => {
      const list = await t.ok<Reply[]>('remote-storage.connections.list');
      assert.deepEqual(list.map((c) => [c['name'], c['source'], c['active'], c['provider'], c['buckets']]), [
        ['local-datasets', 'file', true, 'fs', ['local-datasets']],
      ]);
      assert.equal(list[0]?.['writable'], false);
      for (const method of ['remote-storage.connections.list', 'remote-storage.connections.add', 'remote-storage.connections.update', 'remote-storage.connections.remove']) {
        const res = await t.call(method, { name: 'x', provider: 'fs' }, userKey);
        assert.equal(res.status, 403, method);
      }
      assert.equal((await t.call('remote-storage.connections.list', {}, null)).status, 401);
    });

    it('serves fs:// links of the file connection (bulk.add, download with Range)', async () => {
      const [img] = await t.ok('images.bulk.add', { datasetId, images: [{ title: 'person.jpg', link: 'fs://local-datasets/persons/image1.jpg' }] });
      const part = await downloadRange(t, img.id, 'bytes=2-11');
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 2-11/${hostJpeg.length}`);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), hostJpeg.subarray(2, 12));
      const traversal = await t.call('images.bulk.add', { datasetId, images: [{ title: 'p.jpg', link: 'fs://local-datasets/%2e%2e/remote_links.yml' }] });
      assert.equal(traversal.status, 400);
    });

    it('adds an S3 connection that serves s3:// links at once, never showing its secret', async () => {
      const add = await t.call('remote-storage.connections.add', {
        name: 'rgw', provider: 'minio', endpoint: rgw.endpoint, access_key: rgw.accessKey, secret_key: rgw.secretKey, buckets: [bucket],
      });
      const text = await add.text();
      assert.equal(add.status, 200, text);
      assert.doesNotMatch(text, new RegExp(rgw.secretKey.replace(/[^A-Za-z0-9]/g, '.')));
      const reply = JSON.parse(text) as Reply;
      assert.equal(reply['secret_key'], '****');
      assert.equal(reply['access_key'], rgw.accessKey.length >= 12 ? `****${rgw.accessKey.slice(-4)}` : '****');
      assert.equal(reply['source'], 'api');
      assert.equal(reply['active'], true);

      const [img] = await t.ok('images.bulk.add', { datasetId, images: [{ title: 'truck.jpg', link: `s3://${bucket}/cars/truck.jpg` }] });
      assert.equal(img.link, `s3://${bucket}/cars/truck.jpg`);
      const part = await downloadRange(t, img.id, 'bytes=0-99');
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 0-99/${cloudJpeg.length}`);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), cloudJpeg.subarray(0, 100));

      const listed = await (await get(t, 'remote-storage.connections.list')).text();
      assert.doesNotMatch(listed, new RegExp(rgw.secretKey.replace(/[^A-Za-z0-9]/g, '.')));
      assert.doesNotMatch(t.logs(), new RegExp(rgw.secretKey.replace(/[^A-Za-z0-9]/g, '.')), 'the secret never reaches the logs');
    });

    it('lists available and supported providers as the SDK reads them', async () => {
      const available = await (await get(t, 'remote-storage.available_providers', userKey)).json() as Reply[];
      assert.deepEqual(available, [
        { id: 'minio', name: 'Amazon S3', defaultProtocol: 's3:', protocols: ['s3:', 'minio:'], buckets: [bucket] },
        { id: 'fs', name: 'File system', defaultProtocol: 'fs:', protocols: ['fs:'], buckets: ['local-datasets'] },
      ]);
      const supported = await (await get(t, 'remote-storage.supported_providers?groupId=1')).json() as Reply[];
      assert.deepEqual(supported.map((p) => p['defaultProtocol']), ['s3:', 'google:', 'azure:', 'fs:']);
    });

    it('refuses duplicates, clashes and bad settings naming the field', async () => {
      const dup = await t.call('remote-storage.connections.add', { name: 'rgw', provider: 'minio', iam_role: 'r', buckets: ['other'] });
      assert.equal(dup.status, 400);
      assert.equal(((await dup.json()) as { details: Reply }).details['type'], 'NONUNIQUE');
      const fileName = await t.call('remote-storage.connections.add', { name: 'local-datasets', provider: 'minio', iam_role: 'r', buckets: ['zz'] });
      assert.equal(((await fileName.json()) as { details: Reply }).details['type'], 'NONUNIQUE');
      const clash = await t.call('remote-storage.connections.add', { name: 'rgw2', provider: 's3', iam_role: 'r', buckets: [bucket] });
      assert.equal(clash.status, 400);
      assert.equal(((await clash.json()) as { details: Reply }).details['field'], 'buckets.0');
      const bad = await t.call('remote-storage.connections.add', { name: 'az', provider: 'azure', endpoint: 'https://acc.blob.core.windows.net', buckets: 'x' });
      const body = (await bad.json()) as { error: string; details: Reply };
      assert.equal(bad.status, 400);
      assert.equal(body.details['field'], 'buckets');
      assert.match(body.error, /buckets: expected a list of bucket names/);
      const fsMissing = await t.call('remote-storage.connections.add', { name: 'host2', provider: 'fs', path: join(root, 'nope'), buckets: ['host2'] });
      assert.equal(fsMissing.status, 400);
      assert.equal(((await fsMissing.json()) as { details: Reply }).details['field'], 'path');
    });

    it('updates and removes API connections; unknown names are 404, file ones are refused', async () => {
      assert.equal((await t.call('remote-storage.connections.update', { name: 'nobody', region: 'x' })).status, 404);
      assert.equal((await t.call('remote-storage.connections.remove', { name: 'nobody' })).status, 404);
      assert.equal((await t.call('remote-storage.connections.remove', { name: 'local-datasets' })).status, 400);

      const wrong = await t.ok<Reply>('remote-storage.connections.update', { name: 'rgw', secret_key: 'wrong-secret-value' });
      assert.equal(wrong['secret_key'], '****');
      const refused = await t.call('remote-storage.exists', { path: `s3://${bucket}/cars/truck.jpg` });
      assert.equal(refused.status, 502, 'the new (wrong) secret is in use at once');
      await t.ok('remote-storage.connections.update', { name: 'rgw', secret_key: rgw.secretKey });
      assert.deepEqual(await t.ok('remote-storage.exists', { path: `s3://${bucket}/cars/truck.jpg` }), { exists: true });

      assert.deepEqual(await t.ok('remote-storage.connections.remove', { name: 'rgw' }), { success: true });
      const gone = await t.call('remote-storage.exists', { path: `s3://${bucket}/cars/truck.jpg` });
      assert.equal(gone.status, 400);
      assert.deepEqual((await t.ok<Reply[]>('remote-storage.connections.list')).map((c) => c['name']), ['local-datasets']);
    });
  });
}
