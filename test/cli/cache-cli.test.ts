import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DiskCache } from '../../src/cache/disk-cache.ts';

const cli = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

describe('stowage cache stats|clear', () => {
  let dir: string;
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [cli, 'cache', ...args], {
      env: { PATH: process.env['PATH'] ?? '', DATA_PATH: dir, ENV_FILE: join(dir, 'none.env'), CACHE_PREVIEWS_SIZE: '2m' }, encoding: 'utf8',
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-cache-cli-'));
    // What a server left behind: one cached preview and its counters.
    const previews = await DiskCache.open({ dir: join(dir, 'cache', 'previews'), maxBytes: 2 * 1024 * 1024, maxAgeMs: 3_600_000, name: 'previews' });
    await previews.getOrFill('preview-1', async () => ({ body: Readable.from([Buffer.alloc(2048, 1)]), contentType: 'image/webp' }));
    (await previews.get('preview-1'))?.release();
    await previews.close();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints every cache as a table, or one as JSON', () => {
    const table = run('stats');
    assert.equal(table.code, 0, table.err);
    const lines = table.out.trim().split('\n');
    assert.match(lines[0] ?? '', /^tier\s+entries\s+size\s+max\s+hits\s+misses\s+served\s+fetched\s+evictions$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s{2,}/)[0]), ['storage', 'previews', 'converter']);
    assert.match(table.out, /^previews\s+1\s+2\.0 KiB\s+2\.0 MiB\s+1\s+1\s+0 B\s+2\.0 KiB\s+0$/m);
    assert.match(table.out, /^storage\s+0\s+0 B\s+10\.0 GiB/m);
    const json = run('stats', '--tier', 'previews', '--json');
    assert.equal(json.code, 0, json.err);
    assert.deepEqual(JSON.parse(json.out), [{
      name: 'previews', hits: 1, misses: 1, bytesServed: 0, bytesFetched: 2048, evictions: 0, sizeBytes: 2048, entries: 1, maxBytes: 2 * 1024 * 1024,
    }]);
  });

  it('clears one cache', async () => {
    const cleared = run('clear', '--tier', 'previews');
    assert.equal(cleared.code, 0, cleared.err);
    assert.equal(cleared.out, 'cleared previews: 1 entries, 2.0 KiB\n');
    assert.deepEqual(await readdir(join(dir, 'cache', 'previews', 'data')), []);
    assert.equal(JSON.parse(run('stats', '--tier', 'previews', '--json').out)[0].entries, 0);
  });

  it('refuses an unknown tier', () => {
    const r = run('stats', '--tier', 'disk');
    assert.equal(r.code, 2);
    assert.match(r.err, /--tier "disk": expected one of storage, previews, converter/);
  });
});
