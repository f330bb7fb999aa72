import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { catalogBackends } from '../helpers/catalogs.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const cli = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

function stowage(t: TestApp, args: string[]) {
  const env = { PATH: process.env['PATH'] ?? '', DATA_PATH: t.dataPath, CATALOG_URL: t.config.catalogUrl, ENV_FILE: join(t.dataPath, 'none.env') };
  const r = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

for (const backend of catalogBackends()) {
  describe(`stowage links import (${backend.name})`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend.url()); });
    after(async () => { await t?.close(); });

    it('imports a links file into a dataset, reports bad lines by number, and is idempotent', async () => {
      const p = await t.ok('projects.add', { name: 'cli', workspaceId: 1, type: 'images' });
      const ds = (await t.ok('datasets.add', { projectId: p.id, name: 'ds' })).id;
      const file = join(t.dataPath, 'links.txt');
      // Public links without metadata: no connection and no network needed.
      await writeFile(file, [
        '# exported links', 'https://example.com/img/a.jpg', '', 'https://example.com/img/b%20c.jpg', 'not a link',
        'https://example.com/img/a.jpg', 'https://example.com/other/a.jpg',
      ].join('\r\n'));
      const first = stowage(t, ['links', 'import', '--dataset', String(ds), '--no-metadata', file]);
      assert.equal(first.code, 1, first.err);
      assert.match(first.out, /^line 5: not a link: .*not a valid link/m);
      assert.match(first.out, /^line 7: https:\/\/example\.com\/other\/a\.jpg: conflict: the dataset already has "a\.jpg" linked to https:\/\/example\.com\/img\/a\.jpg$/m);
      assert.match(first.out, /imported 2, skipped 1 \(already there\), 2 bad line\(s\)/);
      assert.match(first.err, /2 line\(s\) not imported/);
      const names = ((await t.ok('images.list', { datasetId: ds })).entities as Array<{ name: string }>).map((e) => e.name).sort();
      assert.deepEqual(names, ['a.jpg', 'b c.jpg']);
      const again = stowage(t, ['links', 'import', '--dataset', String(ds), '--no-metadata', '--json', file]);
      const report = JSON.parse(again.out) as { imported: number; skipped: number; errors: Array<{ line: number }> };
      assert.deepEqual([report.imported, report.skipped, report.errors.map((e) => e.line)], [0, 3, [5, 7]]);
      const missing = stowage(t, ['links', 'import', '--dataset', '999999', file]);
      assert.equal(missing.code, 1);
      assert.match(missing.err, /dataset 999999 not found/);
    });
  });
}
