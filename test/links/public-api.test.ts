import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { makeJpeg } from '../helpers/media-fixtures.ts';

/** A loopback "public" image host serving one JPEG with ranges. */
async function startImageHost(jpeg: Buffer): Promise<{ server: Server; port: number; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    if (req.url !== '/a.jpg') return void res.writeHead(404).end();
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const head = { 'content-type': 'image/jpeg', etag: '"jpeg1"', 'accept-ranges': 'bytes' };
    if (m === null) return void res.writeHead(200, { ...head, 'content-length': jpeg.length }).end(jpeg);
    const start = Number(m[1]);
    const end = m[2] === '' ? jpeg.length - 1 : Math.min(Number(m[2]), jpeg.length - 1);
    res.writeHead(206, { ...head, 'content-range': `bytes ${start}-${end}/${jpeg.length}`, 'content-length': end - start + 1 });
    res.end(jpeg.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, paths };
}

async function imagesDataset(t: TestApp): Promise<number> {
  const p = await t.ok('projects.add', { name: 'linked', workspaceId: 1, type: 'images' });
  return (await t.ok('datasets.add', { projectId: p.id, name: 'ds' })).id;
}

function download(t: TestApp, id: number, range: string): Promise<Response> {
  return fetch(`${t.baseUrl}/public/api/v3/images.download`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': t.adminKey, range }, body: JSON.stringify({ id }),
  });
}

for (const backend of catalogBackends()) {
  describe(`public links API (${backend.name})`, () => {
    let jpeg: Buffer;
    let host: Awaited<ReturnType<typeof startImageHost>>;
    let link: string;
    before(async () => {
      jpeg = await makeJpeg(64, 48, { seed: 7 });
      host = await startImageHost(jpeg);
      link = `http://127.0.0.1:${host.port}/a.jpg`;
    });
    after(async () => {
      host?.server.closeAllConnections();
      await new Promise<void>((resolve) => (host === undefined ? resolve() : host.server.close(() => resolve())));
    });

    it('serves ranges of a public link when its host is allow-listed', async () => {
      const t = await startTestApp(backend.url(), { LINKS_ALLOW_HOSTS: '127.0.0.1' });
      try {
        const datasetId = await imagesDataset(t);
        const [img] = await t.ok('images.bulk.add', { datasetId, images: [{ title: 'a.jpg', link }] });
        assert.equal(img.link, link);
        const part = await download(t, img.id, 'bytes=4-9');
        assert.equal(part.status, 206);
        assert.equal(part.headers.get('content-range'), `bytes 4-9/${jpeg.length}`);
        assert.deepEqual(Buffer.from(await part.arrayBuffer()), jpeg.subarray(4, 10));
        const full = await t.call('images.download', { id: img.id });
        assert.equal(full.status, 200);
        assert.deepEqual(Buffer.from(await full.arrayBuffer()), jpeg);
      } finally {
        await t.close();
      }
    });

    it('refuses a loopback link by default, naming the reason, without fetching it', async () => {
      const t = await startTestApp(backend.url());
      try {
        const datasetId = await imagesDataset(t);
        const seen = host.paths.length;
        const refused = await t.call('images.bulk.add', { datasetId, images: [{ title: 'a.jpg', link }] });
        assert.equal(refused.status, 403);
        assert.match((await refused.json() as { error: string }).error, /127\.0\.0\.1 resolves to a loopback address; allow it with LINKS_ALLOW_HOSTS/);
        // Registered without reading it, the link is still refused when downloaded.
        const [img] = await t.ok('images.bulk.add', { datasetId, forceMetadataForLinks: false, images: [{ title: 'a.jpg', link }] });
        const res = await download(t, img.id, 'bytes=4-9');
        assert.equal(res.status, 403);
        const body = await res.json() as { error: string; details: { kind: string } };
        assert.equal(body.details.kind, 'PermissionDenied');
        assert.match(body.error, /link host 127\.0\.0\.1 resolves to a loopback address; allow it with LINKS_ALLOW_HOSTS/);
        assert.equal(host.paths.length, seen, 'the loopback host was never contacted');
      } finally {
        await t.close();
      }
    });
  });
}
