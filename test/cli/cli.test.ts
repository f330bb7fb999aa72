import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

const root = join(import.meta.dirname, '..', '..');
const node = process.execPath;
const cli = join(root, 'src', 'cli', 'main.ts');

function run(args: string[], env: Record<string, string>) {
  const r = spawnSync(node, [cli, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', cwd: env['CWD'] ?? root });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

describe('stowage CLI', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'stowage-cli-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('prints help for every command', () => {
    for (const args of [['--help'], ['serve', '--help'], ['where', '--help'], ['config', 'check', '--help'], ['token', '--help'], ['token', 'create', '--help']]) {
      const r = run(args, {});
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.out, /Usage: stowage/);
    }
  });

  it('where prints DATA_PATH, the bucket folders and the config files', () => {
    const r = run(['where'], { DATA_PATH: dir, ENV_FILE: join(dir, 'none.env') });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`DATA_PATH\\s+${dir}`));
    assert.match(r.out, new RegExp(`${dir}/storage/stowage-public`));
    assert.match(r.out, /remote_links\.yml/);
  });

  it('config check accepts good settings and rejects bad ones with exit 2 naming the variable', async () => {
    const envFile = join(dir, 'good.env');
    await writeFile(envFile, `DATA_PATH=${dir}\nCACHE_PREVIEWS_SIZE=2g\n`);
    const ok = run(['--env-file', envFile, 'config', 'check'], {});
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /valid/);
    const badFile = join(dir, 'bad.env');
    await writeFile(badFile, 'STORAGE_PROVIDER=ftp\n');
    const bad = run(['--env-file', badFile, 'config', 'check'], {});
    assert.equal(bad.code, 2);
    assert.match(bad.err, /STORAGE_PROVIDER="ftp": expected one of http, minio, azure, google/);
  });

  it('token create, list and revoke manage keys and list never shows secrets', () => {
    const env = { DATA_PATH: dir, ENV_FILE: join(dir, 'none.env') };
    const created = run(['token', 'create', '--name', 'ci-bot'], env);
    assert.equal(created.code, 0, created.err);
    const key = created.out.trim();
    assert.match(key, /^stw_/);
    const listed = run(['token', 'list'], env);
    assert.match(listed.out, /ci-bot/);
    assert.ok(!listed.out.includes(key));
    assert.equal(run(['token', 'revoke', 'ci-bot'], env).code, 0);
    assert.match(run(['token', 'list'], env).out, /revoked/);
    const again = run(['token', 'revoke', 'nobody'], env);
    assert.equal(again.code, 1);
    assert.match(again.err, /no active key/);
  });

  it('serve starts on the embedded default, creates the admin token and stops on SIGTERM', async () => {
    const port = await freePort();
    const data = join(dir, 'served');
    const child = spawn(node, [cli, 'serve'], { env: { PATH: process.env['PATH'] ?? '', DATA_PATH: data, PORT: String(port), ENV_FILE: join(dir, 'none.env') } });
    let log = '';
    child.stdout.on('data', (c) => { log += String(c); });
    child.stderr.on('data', (c) => { log += String(c); });
    try {
      const deadline = Date.now() + 20_000;
      while (!log.includes('listening') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      assert.match(log, /listening/, log);
      const key = (await readFile(join(data, 'admin.token'), 'utf8')).trim();
      assert.ok(!log.includes(key), 'the admin key must not be logged');
      assert.equal((await stat(join(data, 'storage', 'stowage-private'))).isDirectory(), true);
      const res = await fetch(`http://127.0.0.1:${port}/public/api/v3/projects.list`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('storage check prints a table of both buckets; storage cleanup sweeps abandoned uploads', () => {
    const env = { DATA_PATH: dir, ENV_FILE: join(dir, 'none.env') };
    const check = run(['storage', 'check'], env);
    assert.equal(check.code, 0, check.err);
    assert.match(check.out, /^provider\s+endpoint\s+bucket\s+write\s+read\s+list\s+multipart\s+delete/);
    assert.match(check.out, /http\s+\S+\s+stowage-public\s+ok\s+ok\s+ok\s+-\s+ok/);
    const cleanup = run(['storage', 'cleanup', '--older-than', '0s'], env);
    assert.equal(cleanup.code, 0, cleanup.err);
    assert.match(cleanup.out, /removed \d+ abandoned upload/);
    const bad = run(['storage', 'cleanup', '--older-than', 'soon'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--older-than "soon"/);
  });

  it('storage check fails with exit 1 and names the problem when the provider is unreachable', () => {
    const env = { DATA_PATH: dir, ENV_FILE: join(dir, 'none.env'), STORAGE_PROVIDER: 'minio', STORAGE_ENDPOINT: 'http://127.0.0.1:9', STORAGE_ACCESS_KEY: 'ak', STORAGE_SECRET_KEY: 'very-secret-value' };
    const r = run(['storage', 'check'], env);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /minio\s+http:\/\/127\.0\.0\.1:9\S*\s+stowage-public\s+Unavailable/);
    assert.ok(!(r.out + r.err).includes('very-secret-value'));
  });

  it('serve refuses to start on a bad setting with a message naming it', () => {
    const r = run(['serve'], { DATA_PATH: dir, PORT: '0x50', ENV_FILE: join(dir, 'none.env') });
    assert.equal(r.code, 2);
    assert.match(r.err, /PORT="0x50"/);
  });
});
