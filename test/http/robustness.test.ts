import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { allMethods } from '../../src/http/methods/index.ts';

// Bodies a confused or hostile client might send; none may produce a 5xx.
const BODIES: unknown[] = [
  {}, [], null, 'text', 42, { id: -1 }, { id: 'abc' }, { id: 1e308 }, { datasetId: 1, images: [{}] },
  { datasetId: 1, videos: 'nope' }, { filter: [{ field: 'id', operator: 'in', value: 'x' }] },
  { filter: [{ field: 'name', operator: 'contains', value: { $gt: 1 } }] }, { per_page: 0 }, { page: -3 },
  { pagination_mode: 'token', after: '%%%' }, { imageIds: [1, 'x'] }, { images: [{ id: 1, link: 'x' }] },
  { projectId: 1, name: 'x'.repeat(10_000) }, { path: '../../etc/passwd' }, { link: 's3://' },
];

for (const backend of catalogBackends()) {
  describe(`every method survives malformed input (${backend.name})`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend.url()); });
    after(async () => { await t?.close(); });

    it('answers 4xx JSON, never 5xx, to garbage bodies', async () => {
      for (const m of allMethods) {
        for (const body of BODIES) {
          const res = await t.call(m.name, body);
          const text = await res.text();
          assert.ok(res.status < 500, `${m.name} ${JSON.stringify(body).slice(0, 80)} → ${res.status} ${text.slice(0, 200)}`);
          if (res.status >= 400) assert.ok(typeof JSON.parse(text).error === 'string', `${m.name}: JSON error body`);
        }
      }
    });

    it('answers garbage query strings and content types with 4xx', async () => {
      for (const m of allMethods) {
        const res = await fetch(`${t.baseUrl}/public/api/v3/${m.name}?path=%ff&id=%00`, { headers: { 'x-api-key': t.adminKey } });
        assert.ok(res.status < 500, `${m.name} GET → ${res.status}`);
        const xml = await fetch(`${t.baseUrl}/public/api/v3/${m.name}`, {
          method: 'POST', headers: { 'x-api-key': t.adminKey, 'content-type': 'application/xml' }, body: '<a/>',
        });
        assert.ok(xml.status < 500, `${m.name} xml → ${xml.status}`);
      }
      assert.equal((await t.call('instance.version', {})).status, 200);
    });
  });
}
