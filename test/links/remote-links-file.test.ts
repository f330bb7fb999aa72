import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRemoteLinks } from '../../src/links/remote-links-file.ts';

const SEED = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'seed', 'cloud-storage.md');

/** The seed's "Manual configuration" example, verbatim. */
function seedExample(): string {
  const section = readFileSync(SEED, 'utf8').split('### Manual configuration')[1] ?? '';
  const yaml = section.split('```yaml\n')[1]?.split('```')[0];
  assert.ok(yaml !== undefined, `no YAML example in ${SEED}`);
  return yaml;
}

/** The seed's example with its placeholders filled in: some contain ": ", which YAML reads as a nested map. */
function filledSeedExample(): string {
  return seedExample()
    .replace('<your access key>', 'AKIAEXAMPLEKEY123456')
    .replace('<your secret key>', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')
    .replace('<account name>.blob', 'boatsaccount.blob')
    .replace('access_key: <account name>', 'access_key: boatsaccount')
    .replace(/<secret key 88 chars long or so: [^>]*>/, 'aflmg+wg23fWA+6gAafWmgF4a==')
    .replace(/secret_key: or you can also use SAS token here: (\?sv=\S+)/, 'secret_key: "$1"')
    .replace('<path to the secret file inside the container>', '/secret_planes.json');
}

const parse = (text: string) => parseRemoteLinks(text, 'remote_links.yml');

describe('remote_links.yml', () => {
  it('the seed example verbatim is refused: its placeholders hold ": " (with the line and a hint)', () => {
    const r = parse(seedExample());
    assert.deepEqual(r.connections, []);
    assert.match(r.errors[0] ?? '', /^remote_links\.yml:19: YAML syntax error: .*quote a value that contains ": "/);
  });

  it('the filled-in seed example is refused for its duplicate secret_key, naming both the line and the field', () => {
    const r = parse(filledSeedExample());
    assert.deepEqual(r.connections, []);
    assert.deepEqual(r.errors, ['remote_links.yml:20: my-boats-datasets.secret_key: defined twice (YAML duplicate key): keep only one']);
  });

  it('the filled-in seed example minus the duplicate key parses into its three connections', () => {
    const text = filledSeedExample().replace(/\n {2}secret_key: "\?sv=[^\n]*/, '');
    const r = parse(text);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.connections.map((c) => [c.name, c.line]), [['my-car-datasets', 2], ['my-boats-datasets', 15], ['my-planes-datasets', 26]]);
    const [car, boats, planes] = r.connections.map((c) => c.settings);
    assert.deepEqual(car, {
      provider: 'minio', endpoint: 's3.amazonaws.com', access_key: 'AKIAEXAMPLEKEY123456',
      secret_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'eu-central-1', buckets: ['cars_2020_20_10', 'cars_2020_10_10'],
    });
    assert.equal(boats?.provider, 'azure');
    assert.equal(boats?.secret_key, 'aflmg+wg23fWA+6gAafWmgF4a==');
    assert.deepEqual(planes, {
      provider: 'google', endpoint: 'storage.googleapis.com', credentials_path: '/secret_planes.json',
      buckets: ['planes_bucket_2020_20_10', 'another_planes_bucket_2020_10_10'],
    });
  });

  it('names the line and field of a bucket list that is not a list', () => {
    const text = [
      '# cars', // 1
      'my-car-datasets:', // 2
      '  provider: minio', // 3
      '  endpoint: s3.amazonaws.com', // 4
      '  access_key: a', // 5
      '  secret_key: b', // 6
      '  buckets: cars_2020', // 7
    ].join('\n');
    assert.deepEqual(parse(text).errors, ['remote_links.yml:7: my-car-datasets.buckets: expected a list of bucket names']);
  });

  it('reports every problem of every connection, in line order', () => {
    const text = [
      'a:', // 1
      '  provider: s4', // 2
      '  buckets: [x]', // 3
      'b:', // 4
      '  provider: minio', // 5
      '  access_key: k', // 6
      '  secret_key: s', // 7
      'c:', // 8
      '  provider: fs', // 9
      '  buckets: [local-datasets]', // 10
      'd:', // 11
      '  provider: fs', // 12
      '  path: relative/folder', // 13
      '  buckets: [Upper]', // 14
      'e:', // 15
      '  provider: google', // 16
      '  bucket: [x]', // 17
      '  buckets: [x]', // 18
      'f:', // 19
      '  provider: azure', // 20
      '  endpoint: https://acc.blob.core.windows.net', // 21
      '  access_key: acc', // 22
      '  buckets: [y]', // 23
      'g:', // 24
      '  provider: minio', // 25
      '  iam_role: reader', // 26
      '  access_key: k', // 27
      '  buckets: [y, z, z]', // 28
      'c:', // 29
      '  provider: fs', // 30
    ].join('\n');
    const r = parse(text);
    assert.deepEqual(r.connections, []);
    assert.deepEqual(r.errors, [
      'remote_links.yml:2: a.provider: unknown provider "s4": expected one of minio, azure, google, fs',
      'remote_links.yml:4: b.buckets: expected a list of bucket names',
      'remote_links.yml:8: c.path: required for provider fs: the folder on this server',
      'remote_links.yml:13: d.path: must be an absolute folder path, got "relative/folder"',
      'remote_links.yml:14: d.buckets[0]: storage id "Upper": use 3-63 lowercase letters, digits, "-", "." or "_"',
      'remote_links.yml:17: e.bucket: unknown field (expected one of provider, endpoint, access_key, secret_key, iam_role, rolesanywhere, region, credentials_path, credentials_json, path, buckets, writable)',
      'remote_links.yml:19: f.secret_key: required for provider azure: the account key or a SAS token (?sv=…)',
      'remote_links.yml:26: g.iam_role: use either iam_role or access_key/secret_key, not both',
      'remote_links.yml:28: g.buckets[2]: bucket "z" is listed twice',
      'remote_links.yml:29: c: connection defined twice (YAML duplicate key): keep one',
      'remote_links.yml:29: c.buckets: expected a list of bucket names',
    ]);
  });

  it('refuses a bucket served by two connections of one provider (links would be ambiguous)', () => {
    const text = 'one:\n  provider: minio\n  iam_role: r\n  buckets: [shared]\ntwo:\n  provider: s3\n  iam_role: r\n  buckets:\n  - other\n  - shared\n';
    assert.deepEqual(parse(text).errors, ['remote_links.yml:10: two.buckets[1]: bucket "shared" (provider minio) is already served by connection "one"']);
    // Same bucket name under different providers is fine: s3://x and azure://x are different links.
    const ok = 'one:\n  provider: minio\n  iam_role: r\n  buckets: [shared]\ntwo:\n  provider: google\n  buckets: [shared]\n';
    assert.deepEqual(parse(ok).errors, []);
  });

  it('keeps every scalar as written (failsafe YAML) and reads fs connections', () => {
    const r = parse('host:\n  provider: fs\n  path: /data/datasets\n  writable: true\n  buckets:\n  - local-datasets\nnum:\n  provider: minio\n  access_key: 0123\n  secret_key: 1e10\n  iam_role:\n  buckets: [b1]\n');
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.connections[0]?.settings, { provider: 'fs', path: '/data/datasets', writable: true, buckets: ['local-datasets'] });
    assert.equal(r.connections[1]?.settings.access_key, '0123');
    assert.equal(r.connections[1]?.settings.secret_key, '1e10');
    assert.equal(r.connections[1]?.settings.iam_role, undefined);
  });

  it('an empty file or one with comments only has no connections; a list is refused', () => {
    assert.deepEqual(parse(''), { connections: [], errors: [] });
    assert.deepEqual(parse('# nothing yet\n'), { connections: [], errors: [] });
    assert.deepEqual(parse('- a\n- b\n').errors, ['remote_links.yml:1: expected a map of connection names to their settings']);
    assert.match(parse('a: [1\n').errors[0] ?? '', /^remote_links\.yml:2: YAML syntax error/);
    assert.deepEqual(parse('"bad name!":\n  provider: fs\n').errors, ['remote_links.yml:1: bad name!: invalid connection name: use 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit']);
  });

  it('never puts a secret into an error', () => {
    const r = parse('x:\n  provider: google\n  secret_key: TOPSECRETVALUE\n  buckets: [b]\n');
    assert.equal(r.errors.length, 1);
    assert.doesNotMatch(r.errors.join('\n'), /TOPSECRETVALUE/);
  });
});
