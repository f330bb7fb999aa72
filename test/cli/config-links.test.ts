import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

function run(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [cli, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('stowage and remote_links.yml', () => {
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-cli-links-'));
    await mkdir(join(dir, 'datasets'));
    env = { DATA_PATH: dir, ENV_FILE: join(dir, 'none.env'), PORT: '1' };
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('config check without the file says nothing about it', () => {
    const r = run(['config', 'check'], env);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out, /remote_links/);
  });

  it('config check validates the file when present: connections listed, or every line error with exit 2', async () => {
    const file = join(dir, 'remote_links.yml');
    await writeFile(file, `local:\n  provider: fs\n  path: ${join(dir, 'datasets')}\n  buckets: [local-datasets]\n`);
    const ok = run(['config', 'check'], env);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /remote_links\.yml is valid: 1 connection\(s\) local/);

    await writeFile(file, `local:\n  provider: fs\n  path: ${join(dir, 'gone')}\n  buckets: [local-datasets]\ncars:\n  provider: minio\n  iam_role: r\n  buckets: cars\n`);
    const bad = run(['config', 'check'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /remote_links\.yml:8: cars\.buckets: expected a list of bucket names/);

    await writeFile(file, `local:\n  provider: fs\n  path: ${join(dir, 'gone')}\n  buckets: [local-datasets]\n`);
    const missingFolder = run(['config', 'check'], env);
    assert.equal(missingFolder.code, 2);
    assert.match(missingFolder.err, /remote_links\.yml:1: local\.path: .*gone: folder cannot be used \(ENOENT\)/);
  });

  it('serve refuses to start on a broken file, exit 2 naming the line', async () => {
    const file = join(dir, 'remote_links.yml');
    await writeFile(file, 'boats:\n  provider: azure\n  secret_key: a\n  secret_key: b\n  buckets: [x]\n');
    const r = run(['serve'], env);
    assert.equal(r.code, 2);
    assert.match(r.err, /remote_links\.yml:4: boats\.secret_key: defined twice \(YAML duplicate key\)/);
  });
});
