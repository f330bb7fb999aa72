/**
 * The settings of IAM Roles Anywhere in their three forms: STORAGE_ROLESANYWHERE_*
 * variables, the `rolesanywhere` map of remote_links.yml and the connections
 * API body; one set of rules, messages naming the variable or the field.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { parseConnectionSettings } from '../../src/links/connection-schema.ts';
import { publicSettings } from '../../src/links/connection-stores.ts';
import { parseRemoteLinks } from '../../src/links/remote-links-file.ts';
import { resolveTarget, rolesAnywhereProblems } from '../../src/rolesanywhere/settings.ts';
import { PROFILE_ARN, ROLE_ARN, TRUST_ANCHOR_ARN } from './fixtures.ts';

const base = { certificate: '/etc/stowage/client.crt', private_key: '/etc/stowage/client.key', trust_anchor_arn: TRUST_ANCHOR_ARN, profile_arn: PROFILE_ARN, role_arn: ROLE_ARN };
const noFile = { envFile: '/nonexistent/.env' };
const env = {
  STORAGE_PROVIDER: 'minio',
  STORAGE_ENDPOINT: 'http://127.0.0.1:7480',
  STORAGE_ROLESANYWHERE_CERTIFICATE: base.certificate,
  STORAGE_ROLESANYWHERE_PRIVATE_KEY: 'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCnNlY3JldC1ieXRlcwo=',
  STORAGE_ROLESANYWHERE_TRUST_ANCHOR_ARN: TRUST_ANCHOR_ARN,
  STORAGE_ROLESANYWHERE_PROFILE_ARN: PROFILE_ARN,
  STORAGE_ROLESANYWHERE_ROLE_ARN: ROLE_ARN,
};

function configProblems(extra: Record<string, string>): string {
  try {
    loadConfig({ env: { ...env, ...extra }, ...noFile });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('Roles Anywhere settings rules', () => {
  it('accepts complete settings and defaults the region and endpoint from the trust anchor ARN', () => {
    assert.deepEqual(rolesAnywhereProblems(base), []);
    const t = resolveTarget(base);
    assert.equal(t.region, 'eu-central-1');
    assert.equal(t.endpoint, 'https://rolesanywhere.eu-central-1.amazonaws.com');
    assert.equal(t.durationSeconds, undefined);
    const cn = TRUST_ANCHOR_ARN.replace('arn:aws:', 'arn:aws-cn:').replace('eu-central-1', 'cn-north-1');
    assert.equal(resolveTarget({ ...base, trust_anchor_arn: cn }).endpoint, 'https://rolesanywhere.cn-north-1.amazonaws.com.cn');
    assert.equal(resolveTarget({ ...base, endpoint: 'http://127.0.0.1:9000' }).endpoint, 'http://127.0.0.1:9000');
  });

  it('names malformed ARNs, a region mismatch, a bad duration and missing fields', () => {
    const problems = (s: object) => rolesAnywhereProblems(s).map((p) => `${p.field}: ${p.message}`);
    assert.match(problems({ ...base, trust_anchor_arn: 'arn:aws:rolesanywhere:eu-central-1:123:trust-anchor/x' }).join('\n'), /^trust_anchor_arn: malformed ARN .*expected arn:aws:rolesanywhere:<region>:<12-digit account>:trust-anchor\/<uuid>/mu);
    assert.match(problems({ ...base, role_arn: 'stowage-storage' }).join('\n'), /^role_arn: malformed ARN "stowage-storage": expected arn:aws:iam::<12-digit account>:role\/<name>/mu);
    assert.match(problems({ ...base, profile_arn: PROFILE_ARN.replace('eu-central-1', 'us-east-1') }).join('\n'), /^profile_arn: the profile is in region us-east-1 but the trust anchor in eu-central-1/mu);
    assert.match(problems({ ...base, region: 'us-west-2' }).join('\n'), /^region: region us-west-2 differs from the trust anchor's region eu-central-1/mu);
    assert.match(problems({ ...base, session_duration: 60 }).join('\n'), /^session_duration: expected a whole number of seconds from 900 to 43200/mu);
    assert.match(problems({ ...base, endpoint: 'ftp://x' }).join('\n'), /^endpoint: must use http:\/\/ or https:\/\//mu);
    assert.deepEqual(rolesAnywhereProblems({}).map((p) => p.field), ['certificate', 'private_key', 'trust_anchor_arn', 'profile_arn', 'role_arn']);
  });
});

describe('STORAGE_ROLESANYWHERE_* variables', () => {
  it('become the primary storage settings, with session_duration as a number', () => {
    const c = loadConfig({ env: { ...env, STORAGE_ROLESANYWHERE_SESSION_DURATION: '900' }, ...noFile });
    assert.equal(c.storage.rolesAnywhere?.certificate, base.certificate);
    assert.equal(c.storage.rolesAnywhere?.session_duration, 900);
    assert.equal(c.storage.rolesAnywhere?.role_arn, ROLE_ARN);
    assert.equal(loadConfig({ env: { STORAGE_PROVIDER: 'minio', STORAGE_ENDPOINT: 'x', STORAGE_ACCESS_KEY: 'a', STORAGE_SECRET_KEY: 'b' }, ...noFile }).storage.rolesAnywhere, undefined);
  });

  it('name the variable of each problem and never show the private key', () => {
    const text = configProblems({ STORAGE_ROLESANYWHERE_ROLE_ARN: 'role', STORAGE_ROLESANYWHERE_REGION: 'us-east-1' });
    assert.match(text, /STORAGE_ROLESANYWHERE_ROLE_ARN: malformed ARN "role"/u);
    assert.match(text, /STORAGE_ROLESANYWHERE_REGION: region us-east-1 differs from the trust anchor's region eu-central-1/u);
    const duration = configProblems({ STORAGE_ROLESANYWHERE_SESSION_DURATION: '99999' });
    assert.match(duration, /STORAGE_ROLESANYWHERE_SESSION_DURATION="99999": expected a whole number of seconds from 900 to 43200/u);
    assert.ok(!text.includes(env.STORAGE_ROLESANYWHERE_PRIVATE_KEY));
    assert.match(configProblems({ STORAGE_ROLESANYWHERE_PRIVATE_KEY: '', STORAGE_ACCESS_KEY: 'AK' }), /STORAGE_ROLESANYWHERE_\* cannot be combined with STORAGE_ACCESS_KEY[\s\S]*STORAGE_ROLESANYWHERE_PRIVATE_KEY: required/u);
  });

  it('are only for S3', () => {
    const text = configProblems({ STORAGE_PROVIDER: 'azure', STORAGE_ACCESS_KEY: 'acct', STORAGE_SECRET_KEY: 'key' });
    assert.match(text, /STORAGE_ROLESANYWHERE_\* \(IAM Roles Anywhere\) is only supported for S3/u);
  });
});

describe('rolesanywhere in remote_links.yml and the connections API', () => {
  const yaml = [
    'bucket-by-certificate:',
    '  provider: s3',
    '  endpoint: http://127.0.0.1:7480',
    '  rolesanywhere:',
    '    certificate: /etc/stowage/client.crt',
    '    private_key: /etc/stowage/client.key',
    `    trust_anchor_arn: ${TRUST_ANCHOR_ARN}`,
    `    profile_arn: ${PROFILE_ARN}`,
    `    role_arn: ${ROLE_ARN}`,
    '    session_duration: 3600',
    '  buckets: [cars]',
  ].join('\n');

  it('reads the map from the file, the duration as a number', () => {
    const file = parseRemoteLinks(yaml, 'remote_links.yml');
    assert.deepEqual(file.errors, []);
    const s = file.connections[0]?.settings;
    assert.equal(s?.rolesanywhere?.session_duration, 3600);
    assert.equal(s?.rolesanywhere?.trust_anchor_arn, TRUST_ANCHOR_ARN);
  });

  it('reports problems at their line with the nested field', () => {
    const bad = yaml.replace(`role_arn: ${ROLE_ARN}`, 'role_arn: admin').replace('session_duration: 3600', 'session_length: 3600');
    const errors = parseRemoteLinks(bad, 'remote_links.yml').errors.join('\n');
    assert.match(errors, /remote_links\.yml:\d+: bucket-by-certificate\.rolesanywhere\.session_length: unknown field \(expected one of certificate, certificate_chain, private_key/u);
    const onlyArn = parseRemoteLinks(yaml.replace(`role_arn: ${ROLE_ARN}`, 'role_arn: admin'), 'remote_links.yml').errors.join('\n');
    assert.match(onlyArn, /bucket-by-certificate\.rolesanywhere\.role_arn: malformed ARN "admin"/u);
  });

  it('takes one kind of S3 credentials, and only on S3', () => {
    const issues = (raw: object) => (parseConnectionSettings(raw).issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    assert.match(issues({ provider: 'minio', access_key: 'AK', secret_key: 'SK', rolesanywhere: base, buckets: ['a'] }), /^rolesanywhere: use one kind of credentials/mu);
    assert.match(issues({ provider: 'azure', endpoint: 'https://a.blob.core.windows.net', access_key: 'a', secret_key: 'b', rolesanywhere: base, buckets: ['a'] }), /^rolesanywhere: not used by provider azure/mu);
    assert.match(issues({ provider: 'minio', rolesanywhere: { ...base, private_key: undefined }, buckets: ['a'] }), /^rolesanywhere\.private_key: required for IAM Roles Anywhere/mu);
    assert.match(issues({ provider: 'minio', rolesanywhere: 'yes', buckets: ['a'] }), /^rolesanywhere: expected a map of certificate, private_key/mu);
    assert.equal(parseConnectionSettings({ provider: 'minio', rolesanywhere: { ...base, session_duration: 1200 }, buckets: ['a'] }).settings?.rolesanywhere?.session_duration, 1200);
  });

  it('shows the ARNs and paths in replies, never an inline private key', () => {
    const inline = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----';
    const parsed = parseConnectionSettings({ provider: 'minio', rolesanywhere: { ...base, private_key: inline }, buckets: ['a'] });
    assert.ok(parsed.settings !== undefined, JSON.stringify(parsed.issues));
    const shown = publicSettings(parsed.settings).rolesanywhere as Record<string, unknown>;
    assert.equal(shown.private_key, '****');
    assert.equal(shown.role_arn, ROLE_ARN);
    assert.equal(shown.certificate, base.certificate);
    assert.ok(!JSON.stringify(publicSettings(parsed.settings)).includes('MIIEvQIBADANBg'));
    const byPath = parseConnectionSettings({ provider: 'minio', rolesanywhere: base, buckets: ['a'] }).settings;
    assert.equal((publicSettings(byPath!).rolesanywhere as Record<string, unknown>).private_key, base.private_key);
    const b64 = parseConnectionSettings({ provider: 'minio', rolesanywhere: { ...base, private_key: Buffer.from(inline).toString('base64') }, buckets: ['a'] }).settings;
    assert.equal((publicSettings(b64!).rolesanywhere as Record<string, unknown>).private_key, '****');
  });
});
