/**
 * `stowage migrate storage` as users run it, against a real S3 peer (Ceph
 * radosgw): the switch proof (migrate, set STORAGE_PROVIDER to the target,
 * restart: every image and video downloads byte-identical), and a run killed
 * with SIGKILL mid-way then started again (finishes without re-sending what
 * was complete; no partial object is ever visible).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalStore } from '../../src/storage/providers/local/index.ts';
import type { S3Store } from '../../src/storage/providers/s3/index.ts';
import { makePng, makeVideo } from '../helpers/media-fixtures.ts';
import type { Radosgw } from '../helpers/peers/radosgw.ts';
import { withRadosgwS3 } from '../helpers/peers/radosgw-s3.ts';
import { assertSameContents, contents, fill } from './fixtures.ts';
import { download, jsonLines, runCli, seedProject, spawnCli, startInstance, type SeededItem } from './harness.ts';

const MiB = 1024 * 1024;
const FAST = ['--retry-delay', '100ms', '--retry-max-delay', '2s'];

let rgw: Radosgw;
let scratch: string;
let s3: S3Store;
withRadosgwS3('stowage-migrate-cli-', (p) => ({ rgw, s3, scratch } = p));

async function countFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).length;
}

describe('migrate storage, then switch STORAGE_PROVIDER and restart', () => {
  it('serves every image and video byte-identical from the target', async () => {
    const dataPath = join(scratch, 'switch');
    const prefix = `sw${randomUUID().slice(0, 8)}`;
    const local = { DATA_PATH: dataPath, STORAGE_BUCKET_PREFIX: prefix };
    const t = await startInstance(local);
    let images: SeededItem[];
    let videos: SeededItem[];
    try {
      const pngs = await Promise.all(Array.from({ length: 12 }, (_, i) => makePng(40 + i, 30 + i, { seed: i })));
      images = (await seedProject(t, 'image', 'imgs', pngs, ['a', 'a/b', 'c'])).items;
      const clips = [
        await readFile(await makeVideo(scratch, { container: 'mp4', width: 64, height: 48, seconds: 1, fps: 10 })),
        await readFile(await makeVideo(scratch, { container: 'webm', width: 32, height: 24, seconds: 1, fps: 5 })),
      ];
      videos = (await seedProject(t, 'video', 'vids', clips)).items;
    } finally {
      await t.close();
    }
    const stored = await countFiles(join(dataPath, 'storage'));
    const targetEnv = join(scratch, 'target.env');
    await writeFile(targetEnv, [
      'STORAGE_PROVIDER=minio', `STORAGE_ENDPOINT=${rgw.endpoint}`, `STORAGE_ACCESS_KEY=${rgw.accessKey}`,
      `STORAGE_SECRET_KEY=${rgw.secretKey}`, `STORAGE_BUCKET_PREFIX=${prefix}`, '',
    ].join('\n'));
    const run = await runCli(['migrate', 'storage', '--target-env', targetEnv, ...FAST], local);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const summary = jsonLines(run.stdout).find((l) => l['type'] === 'summary');
    assert.deepEqual([summary?.['copied'], summary?.['failed']], [stored, 0]);
    assert.equal(await countFiles(join(dataPath, 'storage')), stored, 'the source keeps every file');

    const cloud = await startInstance({
      ...local, STORAGE_PROVIDER: 'minio', STORAGE_ENDPOINT: rgw.endpoint, STORAGE_ACCESS_KEY: rgw.accessKey, STORAGE_SECRET_KEY: rgw.secretKey,
    });
    try {
      for (const item of images) assert.deepEqual(await download(cloud, 'image', item.id), item.bytes, `image ${item.name}`);
      for (const item of videos) assert.deepEqual(await download(cloud, 'video', item.id), item.bytes, `video ${item.name}`);
      const info = await cloud.ok('images.info', { id: images[0]?.id });
      const direct = await fetch(`${cloud.baseUrl}${info.pathOriginal}`, { headers: { 'x-api-key': 'migrate-test-admin-token-0123456789' } });
      assert.deepEqual(Buffer.from(await direct.arrayBuffer()), images[0]?.bytes);
    } finally {
      await cloud.close();
    }
  });
});

describe('migrate storage killed with SIGKILL, then run again', () => {
  it('finishes the job without re-sending what was complete', async () => {
    const dataPath = join(scratch, 'kill');
    const prefix = `k${randomUUID().slice(0, 8)}`;
    const bucket = `${prefix}-public`;
    const source = createLocalStore({ root: join(dataPath, 'storage'), tmpDir: join(dataPath, 'tmp', 'storage') });
    const objects = new Map<string, Buffer>();
    for (let i = 0; i < 800; i++) objects.set(`images/original/${String(i).padStart(4, '0')}.bin`, randomBytes(20_000 + ((i * 7919) % 100_000)));
    objects.set('videos/original/big-1.mp4', randomBytes(72 * MiB));
    objects.set('videos/original/big-2.mp4', randomBytes(72 * MiB));
    await fill(source, bucket, objects);
    await writeFile(join(dataPath, 'remote_links.yml'), [
      'rgw:', '  provider: minio', `  endpoint: ${rgw.endpoint}`, `  access_key: ${rgw.accessKey}`, `  secret_key: ${rgw.secretKey}`,
      '  buckets:', `    - ${bucket}`, '',
    ].join('\n'));
    const env = { DATA_PATH: dataPath, STORAGE_BUCKET_PREFIX: prefix };
    const args = ['migrate', 'storage', '--to', 'rgw', '--concurrency', '2', '--json', ...FAST];

    const first = spawnCli(args, env, (line, child) => {
      const p = JSON.parse(line) as { type: string; done?: number };
      if (p.type === 'progress' && (p.done ?? 0) >= 150) child.kill('SIGKILL');
    });
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL', `the run ended before it could be killed: ${killed.stdout.slice(-500)}`);
    const there = await contents(s3, bucket);
    assert.ok(there.size > 0 && there.size < objects.size, `${there.size} of ${objects.size} objects copied before the kill`);
    const source1 = await contents(source, bucket);
    for (const [key, hash] of there) assert.equal(hash, source1.get(key), `${key}: a complete copy or none`);

    const second = await runCli(args, env);
    assert.equal(second.code, 0, second.stderr + second.stdout.slice(-2000));
    const summary = jsonLines(second.stdout).find((l) => l['type'] === 'summary') ?? {};
    assert.deepEqual([summary['present'], summary['copied'], summary['failed']], [there.size, objects.size - there.size, 0]);
    await assertSameContents(source, bucket, s3, bucket);
    assert.deepEqual(await contents(source, bucket), source1, 'the source is unchanged');
    await source.close();
  });
});
