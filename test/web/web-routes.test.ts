/**
 * How Stowage serves its web page: `/` and `/ui/<file>` with their content
 * types, ETag revalidation, a strict Content-Security-Policy, no key needed
 * (the page holds no data), and no way out of the page's folder.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { catalogBackend } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/** A GET with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(baseUrl: string, path: string): Promise<number> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web page routes', () => {
  let t: TestApp;
  before(async () => { t = await startTestApp(catalogBackend('sqlite').url()); });
  after(async () => { await t?.close(); });

  it('serves the page and its assets with their types, without a key', async () => {
    const page = await fetch(`${t.baseUrl}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const html = await page.text();
    for (const asset of ['/ui/app.js', '/ui/style.css', '/ui/icon.svg']) assert.ok(html.includes(asset), asset);
    const types: Array<[string, string]> = [['/ui/app.js', 'text/javascript; charset=utf-8'], ['/ui/style.css', 'text/css; charset=utf-8'], ['/ui/icon.svg', 'image/svg+xml'], ['/ui/connections.js', 'text/javascript; charset=utf-8']];
    for (const [path, type] of types) {
      const res = await fetch(`${t.baseUrl}${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), type, path);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
    }
  });

  it('answers 304 to a matching If-None-Match and serves HEAD without a body', async () => {
    const first = await fetch(`${t.baseUrl}/ui/app.js`);
    const etag = first.headers.get('etag') ?? '';
    assert.match(etag, /^"[\w-]+"$/);
    const again = await fetch(`${t.baseUrl}/ui/app.js`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    const head = await fetch(`${t.baseUrl}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('serves nothing outside the page\'s folder', async () => {
    for (const path of ['/ui/../package.json', '/ui/%2e%2e/%2e%2e/package.json', '/ui/..%2f..%2fpackage.json', '/ui/', '/ui/nope.js', '/ui/../index.html', '/ui//etc/passwd', '/index.html']) {
      const status = await rawGet(t.baseUrl, path);
      assert.ok(status === 404 || status === 400, `${path} → ${status}`);
    }
    // The API and storage paths are untouched by the page's routes.
    assert.equal((await fetch(`${t.baseUrl}/public/api/v3/projects.list`, { method: 'POST' })).status, 401);
  });
});
