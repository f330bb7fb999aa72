/**
 * One remote connection's settings, exactly the fields of an entry of the
 * seed's `remote_links.yml` (snake_case), validated by one zod schema shared
 * by the file and the `remote-storage.connections.*` API methods, so both
 * accept and refuse the same things with the same messages.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { isValidBucket } from '../storage/keys.ts';
import { ROLESANYWHERE_FIELDS, rolesAnywhereProblems, sessionDurationSchema } from '../rolesanywhere/settings.ts';

/** Providers of the seed's format. */
export const CONNECTION_PROVIDERS = ['minio', 'azure', 'google', 'fs'] as const;
export type ConnectionProvider = (typeof CONNECTION_PROVIDERS)[number];

/** Spellings of the SDK's provider enum accepted as aliases. */
const PROVIDER_ALIASES: Readonly<Record<string, ConnectionProvider>> = { s3: 'minio', gcs: 'google' };

/** Connection names: what a YAML key, a log line and a URL segment all carry safely. */
export const CONNECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** Message for a bad connection name. */
export const CONNECTION_NAME_RULE = 'use 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** Every field an entry may have. */
export const CONNECTION_FIELDS = [
  'provider', 'endpoint', 'access_key', 'secret_key', 'iam_role', 'rolesanywhere', 'region', 'credentials_path', 'credentials_json', 'path', 'buckets', 'writable',
] as const;

// YAML is read with the failsafe schema (every scalar is text, so keys like
// `0123` or `1e10` stay as written); an empty value means "not set".
const blankToUndefined = (v: unknown) => (v === null || v === '' ? undefined : v);

const text = (what: string) =>
  z.preprocess(blankToUndefined, z.string({ error: `expected ${what}` }).max(8192, `${what} is too long`).optional());

const bucketName = z
  .string({ error: 'expected a bucket name' })
  .min(1, 'expected a bucket name')
  .max(255, 'bucket name is too long')
  .regex(/^[^\s/\\\u0000-\u001f\u007f]+$/u, 'bucket names have no "/", "\\", spaces or control characters');

const provider = z.preprocess(
  (v) => (typeof v === 'string' ? (PROVIDER_ALIASES[v] ?? v) : v),
  z.enum(CONNECTION_PROVIDERS, {
    error: (iss) =>
      iss.input === undefined || iss.input === ''
        ? 'provider is required: one of minio, azure, google, fs'
        : `unknown provider ${JSON.stringify(iss.input)}: expected one of minio, azure, google, fs`,
  }),
);

const writable = z.preprocess(
  (v) => (v === 'true' ? true : v === 'false' ? false : blankToUndefined(v)),
  z.boolean({ error: 'expected true or false' }).optional(),
);

/** IAM Roles Anywhere credentials of an S3 connection (see src/rolesanywhere/settings.ts). */
const rolesAnywhere = z.preprocess(
  blankToUndefined,
  z.strictObject({
    certificate: text('the client certificate (PEM, base64 of it, or a file path)'),
    certificate_chain: text('intermediate certificates (PEM, base64 of it, or a file path)'),
    private_key: text('the private key (PEM, base64 of it, or a file path)'),
    trust_anchor_arn: text('a trust anchor ARN'),
    profile_arn: text('a profile ARN'),
    role_arn: text('a role ARN'),
    region: text('a region'),
    session_duration: sessionDurationSchema,
    endpoint: text('an endpoint (host or URL)'),
  }, { error: (iss) => (iss.code === 'invalid_type' ? 'expected a map of certificate, private_key, trust_anchor_arn, profile_arn, role_arn, …' : undefined) }).optional(),
);

const baseSchema = z.strictObject({
  provider,
  endpoint: text('an endpoint (host or URL)'),
  access_key: text('an access key'),
  secret_key: text('a secret key'),
  iam_role: text('an IAM role name'),
  rolesanywhere: rolesAnywhere,
  region: text('a region'),
  credentials_path: text('a file path'),
  credentials_json: z.preprocess(blankToUndefined, z.string({ error: 'expected the service-account key file\'s JSON text' }).max(16384, 'the service-account key is too long').optional()),
  path: text('a folder path'),
  buckets: z.array(bucketName, { error: 'expected a list of bucket names' }).min(1, 'expected a list of bucket names (at least one)'),
  writable,
});

/** Validated settings of one connection (`provider` normalised: `s3` → `minio`, `gcs` → `google`). */
export type ConnectionSettings = z.output<typeof baseSchema>;

type Field = (typeof CONNECTION_FIELDS)[number];
type Ctx = z.RefinementCtx<ConnectionSettings>;

function forbid(s: ConnectionSettings, ctx: Ctx, fields: readonly Field[], why: string): void {
  for (const f of fields) {
    if (s[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: `not used by provider ${s.provider}: ${why}` });
  }
}

function need(s: ConnectionSettings, ctx: Ctx, f: Field, message: string): void {
  if (s[f] === undefined) ctx.addIssue({ code: 'custom', path: [f], message });
}

/** Rules between fields, per provider; each issue names its field. */
function crossCheck(s: ConnectionSettings, ctx: Ctx): void {
  s.buckets.forEach((b, i) => {
    if (s.buckets.indexOf(b) !== i) ctx.addIssue({ code: 'custom', path: ['buckets', i], message: `bucket ${JSON.stringify(b)} is listed twice` });
  });
  if (s.provider !== 'fs') forbid(s, ctx, ['path', 'writable'], 'only the fs provider serves a host folder');
  switch (s.provider) {
    case 'minio':
      checkS3Credentials(s, ctx);
      break;
    case 'azure':
      need(s, ctx, 'endpoint', 'required for provider azure: https://<account>.blob.core.windows.net');
      need(s, ctx, 'access_key', 'required for provider azure: the storage account name');
      need(s, ctx, 'secret_key', 'required for provider azure: the account key or a SAS token (?sv=…)');
      forbid(s, ctx, ['iam_role', 'rolesanywhere', 'credentials_path', 'credentials_json', 'region'], 'Azure uses access_key (account) and secret_key');
      break;
    case 'google':
      forbid(s, ctx, ['access_key', 'secret_key', 'iam_role', 'rolesanywhere', 'region'], 'Google uses credentials_path or credentials_json');
      if (s.credentials_path !== undefined && s.credentials_json !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['credentials_json'], message: 'give the key file either on the server (credentials_path) or inline (credentials_json), not both' });
      }
      break;
    case 'fs':
      checkFs(s, ctx);
      break;
  }
}

/** One kind of S3 credentials: keys, iam_role or rolesanywhere. */
function checkS3Credentials(s: ConnectionSettings, ctx: Ctx): void {
  forbid(s, ctx, ['credentials_path', 'credentials_json'], 'S3 uses access_key/secret_key, iam_role or rolesanywhere');
  const hasKeys = s.access_key !== undefined || s.secret_key !== undefined;
  if (s.rolesanywhere !== undefined) {
    if (hasKeys || s.iam_role !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['rolesanywhere'], message: 'use one kind of credentials: rolesanywhere, iam_role or access_key/secret_key' });
    }
    for (const p of rolesAnywhereProblems(s.rolesanywhere)) ctx.addIssue({ code: 'custom', path: ['rolesanywhere', p.field], message: p.message });
  } else if (s.iam_role !== undefined && hasKeys) {
    ctx.addIssue({ code: 'custom', path: ['iam_role'], message: 'use either iam_role or access_key/secret_key, not both' });
  } else if (s.iam_role === undefined) {
    need(s, ctx, 'access_key', 'required for provider minio (or set iam_role or rolesanywhere instead of keys)');
    need(s, ctx, 'secret_key', 'required for provider minio (or set iam_role or rolesanywhere instead of keys)');
  }
}

function checkFs(s: ConnectionSettings, ctx: Ctx): void {
  forbid(s, ctx, ['endpoint', 'access_key', 'secret_key', 'iam_role', 'rolesanywhere', 'region', 'credentials_path', 'credentials_json'], 'fs serves a folder of this host');
  if (s.path === undefined) need(s, ctx, 'path', 'required for provider fs: the folder on this server');
  else if (!isAbsolute(s.path)) ctx.addIssue({ code: 'custom', path: ['path'], message: `must be an absolute folder path, got ${JSON.stringify(s.path)}` });
  if (s.buckets.length !== 1) {
    ctx.addIssue({ code: 'custom', path: ['buckets'], message: 'provider fs takes exactly one storage id: buckets: [<storage id>]' });
  }
  s.buckets.forEach((b, i) => {
    if (!isValidBucket(b)) {
      ctx.addIssue({ code: 'custom', path: ['buckets', i], message: `storage id ${JSON.stringify(b)}: use 3-63 lowercase letters, digits, "-", "." or "_"` });
    }
  });
}

/** The schema of one connection's settings (file entry or API body without `name`). */
export const connectionSettingsSchema = baseSchema.superRefine(crossCheck);

/** One validation problem: the path below the connection (`['buckets', 0]`) and what is wrong. */
export interface SettingsIssue {
  path: (string | number)[];
  message: string;
}

/** Validates raw settings; unknown fields are issues naming the field. */
export function parseConnectionSettings(raw: unknown): { settings: ConnectionSettings; issues?: undefined } | { settings?: undefined; issues: SettingsIssue[] } {
  const result = connectionSettingsSchema.safeParse(raw);
  if (result.success) return { settings: result.data };
  const issues: SettingsIssue[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      const known = path[0] === 'rolesanywhere' ? ROLESANYWHERE_FIELDS : CONNECTION_FIELDS;
      for (const key of issue.keys) issues.push({ path: [...path, key], message: `unknown field (expected one of ${known.join(', ')})` });
    } else if (path.length === 0 && issue.code === 'invalid_type') {
      issues.push({ path, message: 'expected a map of settings (provider, endpoint, buckets, …)' });
    } else {
      issues.push({ path, message: issue.message });
    }
  }
  return { issues };
}
