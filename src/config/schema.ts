import { z } from 'zod';
import { sessionDurationSchema } from '../rolesanywhere/settings.ts';
import { parseDuration, parseSize } from './units.ts';

const PROVIDERS = ['http', 'minio', 'azure', 'google'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const size = (fallback: string) =>
  z.string().default(fallback).transform((v, ctx) => {
    const n = parseSize(v);
    if (n === undefined) ctx.addIssue({ code: 'custom', message: 'expected a size such as 512m, 1g or 10g' });
    return n ?? 0;
  });

const duration = (fallback: string) =>
  z.string().default(fallback).transform((v, ctx) => {
    const n = parseDuration(v);
    if (n === undefined) ctx.addIssue({ code: 'custom', message: 'expected a duration such as 30m, 12h or 7d' });
    return n ?? 0;
  });

const port = (fallback?: string) => {
  const base = z.string().regex(/^\d+$/, 'expected a port number 1-65535').transform(Number)
    .refine((n) => n >= 1 && n <= 65535, 'expected a port number 1-65535');
  return fallback === undefined ? base.optional() : z.string().default(fallback).pipe(base);
};

const bool = (fallback: 'true' | 'false') =>
  z.string().default(fallback).transform((v) => v.toLowerCase())
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' }))
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalText = z.string().optional().transform((v) => (v === '' ? undefined : v));

/**
 * Every setting Stowage reads from the environment or `.env`, with its
 * default. Names follow the seed (`STORAGE_*`, `CACHE_*`, `DATA_PATH`).
 */
export const settingsSchema = z.object({
  /** Interface to listen on. Default `127.0.0.1`. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** TCP port. Default `8080`. */
  PORT: port('8080'),
  /** Folder for storage, caches, catalog and the admin token. Default `./data`. */
  DATA_PATH: z.string().min(1).default('./data'),
  /**
   * DATA_PATH is one folder shared by every instance (a network filesystem),
   * so several instances on one PostgreSQL catalog may use local storage.
   * Default `false`: a second such instance is refused at start.
   */
  DATA_PATH_SHARED: bool('false'),
  /** Where uploads go: `http` (local disk, default), `minio` (any S3), `azure`, `google`. */
  STORAGE_PROVIDER: z.enum(PROVIDERS, { message: `expected one of ${PROVIDERS.join(', ')}` }).default('http'),
  /** Buckets are `<prefix>-public` and `<prefix>-private`. Default `stowage`. */
  STORAGE_BUCKET_PREFIX: z.string().default('stowage')
    .pipe(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,53}$/, 'expected 2-54 lowercase letters, digits, "-" or "." (bucket-name rules)')),
  /** Cloud endpoint: a bare host (`s3.amazonaws.com`) or a URL. No default. */
  STORAGE_ENDPOINT: optionalText,
  /** Endpoint port; 443 (or unset) means https for a bare host. */
  STORAGE_PORT: port(),
  /** S3 access key / Azure account name. */
  STORAGE_ACCESS_KEY: optionalText,
  /** S3 secret key / Azure account key or SAS token. Never logged. */
  STORAGE_SECRET_KEY: optionalText,
  /** S3 region. Default: `us-east-1` for S3 endpoints. */
  STORAGE_REGION: optionalText,
  /** AWS IAM role name for instance-metadata credentials (instead of keys). */
  STORAGE_IAM_ROLE: optionalText,
  /**
   * IAM Roles Anywhere (S3 only, instead of keys): the client certificate as
   * PEM, base64 of the PEM, or a file path (read again at each renewal). No default.
   */
  STORAGE_ROLESANYWHERE_CERTIFICATE: optionalText,
  /** Intermediate CA certificates (at most 5): PEM, base64 or a path. Default: none. */
  STORAGE_ROLESANYWHERE_CERTIFICATE_CHAIN: optionalText,
  /** The certificate's RSA or EC private key: PEM, base64 or a path. Never logged. No default. */
  STORAGE_ROLESANYWHERE_PRIVATE_KEY: optionalText,
  /** `arn:aws:rolesanywhere:<region>:<account>:trust-anchor/<id>`. No default. */
  STORAGE_ROLESANYWHERE_TRUST_ANCHOR_ARN: optionalText,
  /** `arn:aws:rolesanywhere:<region>:<account>:profile/<id>`. No default. */
  STORAGE_ROLESANYWHERE_PROFILE_ARN: optionalText,
  /** `arn:aws:iam::<account>:role/<name>`. No default. */
  STORAGE_ROLESANYWHERE_ROLE_ARN: optionalText,
  /** Roles Anywhere region. Default: the trust anchor ARN's region. */
  STORAGE_ROLESANYWHERE_REGION: optionalText,
  /** Session length in seconds, 900-43200. Default: the profile's (3600 unless changed). */
  STORAGE_ROLESANYWHERE_SESSION_DURATION: sessionDurationSchema,
  /** CreateSession endpoint. Default `https://rolesanywhere.<region>.amazonaws.com`. */
  STORAGE_ROLESANYWHERE_ENDPOINT: optionalText,
  /** Google service-account JSON file. */
  STORAGE_CREDENTIALS_PATH: optionalText,
  /** Create missing buckets at start. Default `false`. */
  STORAGE_CREATE_BUCKETS: bool('false'),
  /** Preview cache size. Default `1g`. */
  CACHE_PREVIEWS_SIZE: size('1g'),
  /** Preview cache entry lifetime. Default `12h`. */
  CACHE_PREVIEWS_EXPIRES: duration('12h'),
  /** Cache of originals fetched from remote stores. Default `10g`. */
  CACHE_STORAGE_SIZE: size('10g'),
  /** Lifetime of cached originals. Default `7d`. */
  CACHE_STORAGE_EXPIRES: duration('7d'),
  /** Cache of browser-friendly conversions. Default `10g`. */
  CACHE_IMAGE_CONVERTER_SIZE: size('10g'),
  /** Lifetime of cached conversions. Default `7d`. */
  CACHE_IMAGE_CONVERTER_EXPIRES: duration('7d'),
  /**
   * Range reads (video seeks) of cached remote objects larger than this go
   * straight to the store instead of filling the storage cache first, so
   * playback starts at once. Default `64m`.
   */
  CACHE_STORAGE_RANGE_PASSTHROUGH: size('64m'),
  /** In-memory cache of small immutable originals (hot images). Default `128m`; `0` disables it. */
  CACHE_MEMORY_SIZE: size('128m'),
  /** Catalog: `sqlite:<file>` or `postgres://…`. Default `sqlite:<DATA_PATH>/catalog.sqlite`. */
  CATALOG_URL: optionalText.pipe(z.string().regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'expected sqlite:<file> or postgres://user@host:port/db').optional()),
  /** Admin API key; when unset, the first start generates one into `DATA_PATH/admin.token`. */
  STOWAGE_ADMIN_TOKEN: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** Named remote connections file. Default `<DATA_PATH>/remote_links.yml`. */
  REMOTE_LINKS_PATH: optionalText,
  /**
   * Hosts (comma-separated names or IPs) whose public http(s) links may be fetched even
   * though they resolve to loopback, private or link-local addresses. Default: none.
   */
  LINKS_ALLOW_HOSTS: z.string().default('').transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '')),
  /** Absolute base URL used in `fullStorageUrl`. Default: taken from each request's Host. */
  PUBLIC_URL: optionalText.pipe(z.url({ message: 'expected an absolute URL such as https://stowage.example.com' }).optional()),
  /** Log level. Default `info`. */
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  /** Largest JSON request body. Default `10m`. */
  MAX_JSON_BODY: size('10m'),
  /** Largest single uploaded file. Default `50g`. */
  MAX_UPLOAD_SIZE: size('50g'),
  /** Lifetime of signed storage URLs. Default `1h`. */
  SIGNED_URL_TTL: duration('1h'),
  /**
   * How often a running job (migration, background link import) beats its
   * heartbeat in the catalog, and how often each serving instance looks for
   * abandoned jobs to take over (with ±25% jitter). Default `10s`.
   */
  JOBS_HEARTBEAT_INTERVAL: duration('10s'),
  /**
   * A running job whose heartbeat is older than this is presumed abandoned
   * (its instance died) and is taken over by another instance, resuming from
   * its last checkpoint. Must exceed JOBS_HEARTBEAT_INTERVAL. Default `1m`.
   */
  JOBS_STALE_AFTER: duration('1m'),
});

/** Raw validated settings, by environment-variable name. */
export type Settings = z.output<typeof settingsSchema>;

/** Names of every setting, for `config check` and docs. */
export const SETTING_NAMES = Object.keys(settingsSchema.shape) as Array<keyof Settings>;

/** Settings whose values must never be printed. */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set(['STORAGE_SECRET_KEY', 'STORAGE_ACCESS_KEY', 'STOWAGE_ADMIN_TOKEN', 'STORAGE_ROLESANYWHERE_PRIVATE_KEY']);
