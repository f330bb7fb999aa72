import { isAbsolute, join, resolve } from 'node:path';
import { readEnvFile, type EnvFile } from './env-file.ts';
import { providerProblems, rolesAnywhereSettingsOf } from './provider-rules.ts';
import type { RolesAnywhereInput } from '../rolesanywhere/settings.ts';
import { SECRET_SETTINGS, SETTING_NAMES, settingsSchema, type Settings } from './schema.ts';

/** Settings resolved into the shape the service uses. */
export interface Config {
  host: string;
  port: number;
  /** Absolute DATA_PATH. */
  dataPath: string;
  /** `DATA_PATH_SHARED`: every instance sees the same DATA_PATH. */
  dataPathShared: boolean;
  /** `DATA_PATH/storage`: local buckets live here. */
  storagePath: string;
  storage: {
    provider: Settings['STORAGE_PROVIDER'];
    bucketPrefix: string;
    publicBucket: string;
    privateBucket: string;
    endpoint: string | undefined;
    port: number | undefined;
    accessKey: string | undefined;
    secretKey: string | undefined;
    region: string | undefined;
    iamRole: string | undefined;
    /** IAM Roles Anywhere, when any `STORAGE_ROLESANYWHERE_*` is set. */
    rolesAnywhere: RolesAnywhereInput | undefined;
    credentialsPath: string | undefined;
    createBuckets: boolean;
  };
  cache: Record<'previews' | 'storage' | 'imageConverter', { sizeBytes: number; expiresMs: number }> & {
    /** Budget of the in-memory cache of small immutable originals. */
    memoryBytes: number;
    /** Range reads of larger cached remote objects bypass the storage cache. */
    rangePassThroughBytes: number;
  };
  catalogUrl: string;
  adminToken: string | undefined;
  remoteLinksPath: string;
  /** Hosts whose public links may resolve to non-public addresses (SSRF allow-list). */
  linksAllowHosts: string[];
  publicUrl: string | undefined;
  logLevel: Settings['LOG_LEVEL'];
  limits: { jsonBodyBytes: number; uploadBytes: number };
  signedUrlTtlMs: number;
  /** Long jobs: heartbeat period (`JOBS_HEARTBEAT_INTERVAL`) and age of a heartbeat that means abandoned (`JOBS_STALE_AFTER`). */
  jobs: { heartbeatMs: number; staleMs: number };
  /** The `.env` file read, if any. */
  envFile: string | undefined;
}

/** Raised when settings are invalid; `problems` has one line per variable. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Where to look for settings. */
export interface LoadOptions {
  /** Process environment; wins over the file. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** `.env` path. Default `ENV_FILE` or `./.env`. */
  envFile?: string;
  cwd?: string;
}

/**
 * Reads `.env` (optional) and the environment, validates every setting and
 * returns the resolved config, or throws a {@link ConfigError} naming each
 * bad variable, its value (masked for secrets) and what is allowed.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const envPath = resolve(cwd, options.envFile ?? env['ENV_FILE'] ?? '.env');
  const file = readEnvFile(envPath);
  const problems = (file?.problems ?? []).map((p) => `${envPath}:${p.line}: ${p.message}`);
  const raw = mergeSources(env, file);
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '?');
      problems.push(`${name}=${showValue(name, raw[name])}: ${issue.message}`);
    }
  }
  if (parsed.success) problems.push(...providerProblems(parsed.data), ...jobTimingProblems(parsed.data));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return resolveConfig(parsed.data, cwd, file);
}

/** A stale time within the heartbeat period would hand live jobs to a second instance. */
function jobTimingProblems(s: Settings): string[] {
  if (s.JOBS_HEARTBEAT_INTERVAL <= 0) return ['JOBS_HEARTBEAT_INTERVAL: must be more than 0'];
  if (s.JOBS_STALE_AFTER > s.JOBS_HEARTBEAT_INTERVAL) return [];
  return [`JOBS_STALE_AFTER=${s.JOBS_STALE_AFTER}ms: must exceed JOBS_HEARTBEAT_INTERVAL (${s.JOBS_HEARTBEAT_INTERVAL}ms); three heartbeats or more is safest`];
}

function mergeSources(env: NodeJS.ProcessEnv, file: EnvFile | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of SETTING_NAMES) {
    const v = env[name] ?? file?.values[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** Shows a value in an error message without leaking secrets. */
export function showValue(name: string, value: string | undefined): string {
  if (value === undefined) return '(unset)';
  if (SECRET_SETTINGS.has(name)) return '(hidden)';
  return JSON.stringify(value);
}

function resolveConfig(s: Settings, cwd: string, file: EnvFile | undefined): Config {
  const dataPath = resolve(cwd, s.DATA_PATH);
  const inData = (p: string | undefined, fallback: string) =>
    p === undefined ? join(dataPath, fallback) : isAbsolute(p) ? p : resolve(cwd, p);
  return {
    host: s.HOST,
    port: s.PORT ?? 8080,
    dataPath,
    dataPathShared: s.DATA_PATH_SHARED,
    storagePath: join(dataPath, 'storage'),
    storage: {
      provider: s.STORAGE_PROVIDER,
      bucketPrefix: s.STORAGE_BUCKET_PREFIX,
      publicBucket: `${s.STORAGE_BUCKET_PREFIX}-public`,
      privateBucket: `${s.STORAGE_BUCKET_PREFIX}-private`,
      endpoint: s.STORAGE_ENDPOINT,
      port: s.STORAGE_PORT,
      accessKey: s.STORAGE_ACCESS_KEY,
      secretKey: s.STORAGE_SECRET_KEY,
      region: s.STORAGE_REGION,
      iamRole: s.STORAGE_IAM_ROLE,
      rolesAnywhere: rolesAnywhereSettingsOf(s),
      credentialsPath: s.STORAGE_CREDENTIALS_PATH,
      createBuckets: s.STORAGE_CREATE_BUCKETS,
    },
    cache: {
      previews: { sizeBytes: s.CACHE_PREVIEWS_SIZE, expiresMs: s.CACHE_PREVIEWS_EXPIRES },
      storage: { sizeBytes: s.CACHE_STORAGE_SIZE, expiresMs: s.CACHE_STORAGE_EXPIRES },
      imageConverter: { sizeBytes: s.CACHE_IMAGE_CONVERTER_SIZE, expiresMs: s.CACHE_IMAGE_CONVERTER_EXPIRES },
      memoryBytes: s.CACHE_MEMORY_SIZE,
      rangePassThroughBytes: s.CACHE_STORAGE_RANGE_PASSTHROUGH,
    },
    catalogUrl: s.CATALOG_URL ?? `sqlite:${join(dataPath, 'catalog.sqlite')}`,
    adminToken: s.STOWAGE_ADMIN_TOKEN,
    remoteLinksPath: inData(s.REMOTE_LINKS_PATH, 'remote_links.yml'),
    linksAllowHosts: s.LINKS_ALLOW_HOSTS,
    publicUrl: s.PUBLIC_URL?.replace(/\/+$/, ''),
    logLevel: s.LOG_LEVEL,
    limits: { jsonBodyBytes: s.MAX_JSON_BODY, uploadBytes: s.MAX_UPLOAD_SIZE },
    signedUrlTtlMs: s.SIGNED_URL_TTL,
    jobs: { heartbeatMs: s.JOBS_HEARTBEAT_INTERVAL, staleMs: s.JOBS_STALE_AFTER },
    envFile: file?.path,
  };
}
