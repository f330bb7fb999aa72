import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { parseDuration, parseSize } from '../../src/config/units.ts';

const noFile = { envFile: '/nonexistent/.env' };

describe('loadConfig', () => {
  it('defaults to local storage under ./data on 127.0.0.1:8080 with the seed cache defaults', () => {
    const c = loadConfig({ env: {}, cwd: '/srv/app', ...noFile });
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.equal(c.dataPath, '/srv/app/data');
    assert.equal(c.storage.provider, 'http');
    assert.equal(c.storage.publicBucket, 'stowage-public');
    assert.equal(c.storage.privateBucket, 'stowage-private');
    assert.equal(c.catalogUrl, 'sqlite:/srv/app/data/catalog.sqlite');
    assert.equal(c.remoteLinksPath, '/srv/app/data/remote_links.yml');
    assert.equal(c.cache.previews.sizeBytes, 1024 ** 3);
    assert.equal(c.cache.previews.expiresMs, 12 * 3600_000);
    assert.equal(c.cache.storage.sizeBytes, 10 * 1024 ** 3);
    assert.equal(c.cache.storage.expiresMs, 7 * 86_400_000);
    assert.equal(c.cache.imageConverter.sizeBytes, 10 * 1024 ** 3);
    assert.equal(c.cache.rangePassThroughBytes, 64 * 1024 ** 2);
  });

  it('reads .env, and the environment wins over it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-env-'));
    const file = join(dir, '.env');
    await writeFile(file, '# comment\nSTORAGE_BUCKET_PREFIX="acme"\nPORT=9000\nexport HOST=0.0.0.0 # trailing\nCACHE_PREVIEWS_SIZE=\'2g\'\n');
    const c = loadConfig({ env: { PORT: '9100' }, envFile: file, cwd: dir });
    assert.equal(c.port, 9100);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.storage.publicBucket, 'acme-public');
    assert.equal(c.cache.previews.sizeBytes, 2 * 1024 ** 3);
    assert.equal(c.envFile, file);
  });

  it('names every bad variable, its value and what is allowed', () => {
    try {
      loadConfig({ env: { STORAGE_PROVIDER: 's4', PORT: 'eighty', CACHE_STORAGE_EXPIRES: 'forever', CATALOG_URL: 'mysql://x', CACHE_STORAGE_RANGE_PASSTHROUGH: 'huge' }, ...noFile });
      assert.fail('expected ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const text = err.message;
      assert.match(text, /STORAGE_PROVIDER="s4": expected one of http, minio, azure, google/);
      assert.match(text, /PORT="eighty": expected a port number/);
      assert.match(text, /CACHE_STORAGE_EXPIRES="forever": expected a duration/);
      assert.match(text, /CACHE_STORAGE_RANGE_PASSTHROUGH="huge"/);
      assert.match(text, /CATALOG_URL="mysql:\/\/x"/);
    }
  });

  it('never shows secret values in errors', () => {
    assert.throws(() => loadConfig({ env: { STOWAGE_ADMIN_TOKEN: 'short-secret' }, ...noFile }), (err: Error) => {
      assert.match(err.message, /STOWAGE_ADMIN_TOKEN=\(hidden\)/);
      assert.ok(!err.message.includes('short-secret'));
      return true;
    });
  });

  it('reports malformed .env lines with their line number', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-env-'));
    const file = join(dir, '.env');
    await writeFile(file, 'PORT=8081\nthis is not a setting\n');
    assert.throws(() => loadConfig({ env: {}, envFile: file }), /\.env:2: expected KEY=value/);
  });
});

describe('size and duration units', () => {
  it('parses the seed notations', () => {
    assert.equal(parseSize('1g'), 1024 ** 3);
    assert.equal(parseSize('512m'), 512 * 1024 ** 2);
    assert.equal(parseSize('10GB'), 10 * 1024 ** 3);
    assert.equal(parseSize('100'), 100);
    assert.equal(parseSize('lots'), undefined);
    assert.equal(parseDuration('12h'), 12 * 3600_000);
    assert.equal(parseDuration('7d'), 7 * 86_400_000);
    assert.equal(parseDuration('30'), 30_000);
    assert.equal(parseDuration('soon'), undefined);
  });
});

describe('cloud provider settings', () => {
  const base = { envFile: '/nonexistent/.env' };
  it('names the settings each provider needs', () => {
    assert.throws(() => loadConfig({ env: { STORAGE_PROVIDER: 'minio' }, ...base }),
      /STORAGE_ENDPOINT is required when STORAGE_PROVIDER=minio[\s\S]*STORAGE_ACCESS_KEY and STORAGE_SECRET_KEY \(or STORAGE_IAM_ROLE\)/);
    assert.throws(() => loadConfig({ env: { STORAGE_PROVIDER: 'azure', STORAGE_ENDPOINT: 'http://x' }, ...base }), /STORAGE_ACCESS_KEY is required when STORAGE_PROVIDER=azure/);
    assert.throws(() => loadConfig({ env: { STORAGE_PROVIDER: 'google' }, ...base }), /STORAGE_CREDENTIALS_PATH is required/);
    assert.throws(() => loadConfig({ env: { STORAGE_PROVIDER: 'google', STORAGE_CREDENTIALS_PATH: '/x.json', STORAGE_IAM_ROLE: 'r' }, ...base }), /only supported for AWS S3/);
  });

  it('accepts an IAM role instead of keys for S3', () => {
    const c = loadConfig({ env: { STORAGE_PROVIDER: 'minio', STORAGE_ENDPOINT: 's3.amazonaws.com', STORAGE_IAM_ROLE: 'stowage-role' }, ...base });
    assert.equal(c.storage.iamRole, 'stowage-role');
  });
});
