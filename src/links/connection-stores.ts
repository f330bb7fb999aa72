/**
 * Building the object store of a connection from its settings, with the same
 * provider factories (and retry layer) as the primary storage, and the
 * secret-free view of the settings that replies and logs may show.
 */
import { stat } from 'node:fs/promises';
import { withCache } from '../cache/caching-store.ts';
import type { DiskCache } from '../cache/disk-cache.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { createFsStore } from '../storage/providers/fs/index.ts';
import { withRetries, type RetryOptions } from '../storage/retrying-store.ts';
import type { ConnectionSettings } from './connection-schema.ts';
import { publicRolesAnywhere } from '../rolesanywhere/settings.ts';

/** Builds a connection's store; throws a message naming the setting to fix. */
export type StoreFactory = (name: string, settings: ConnectionSettings) => Promise<ObjectStore>;

/** Why a connection's store cannot be built: a message safe to show (no secrets). */
export class ConnectionSetupError extends Error {
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.name = 'ConnectionSetupError';
    this.field = field;
  }
}

// Provider messages speak of the primary storage's variables; a connection's settings have file names.
const SETTING_NAMES: ReadonlyArray<[RegExp, string]> = [
  [/STORAGE_CREDENTIALS_PATH/g, 'credentials_path'],
  [/STORAGE_ENDPOINT/g, 'endpoint'],
  [/STORAGE_ACCESS_KEY/g, 'access_key'],
  [/STORAGE_SECRET_KEY/g, 'secret_key'],
  [/STORAGE_IAM_ROLE/g, 'iam_role'],
  [/STORAGE_REGION/g, 'region'],
];

/** A provider's message with our primary-storage setting names replaced by a connection's field names. */
export function renameSettings(message: string): string {
  return SETTING_NAMES.reduce((m, [re, name]) => m.replace(re, name), message);
}

/** The SDKs are imported on first use: each costs 35-40 MiB of resident memory. */
async function cloudStore(s: ConnectionSettings): Promise<ObjectStore> {
  switch (s.provider) {
    case 'minio':
      return (await import('../storage/providers/s3/index.ts')).createS3Store({ endpoint: s.endpoint, accessKey: s.access_key, secretKey: s.secret_key, region: s.region, iamRole: s.iam_role, rolesAnywhere: s.rolesanywhere });
    case 'azure':
      return (await import('../storage/providers/azure/index.ts')).createAzureStore({ endpoint: s.endpoint ?? '', accountName: s.access_key ?? '', secret: s.secret_key ?? '' });
    case 'google':
      return (await import('../storage/providers/gcs/index.ts')).createGcsStore({ credentialsPath: s.credentials_path, credentialsJson: s.credentials_json, endpoint: s.endpoint });
    case 'fs':
      throw new Error('unreachable: fs is not a cloud provider');
  }
}

async function fsStore(name: string, s: ConnectionSettings): Promise<ObjectStore> {
  const folder = s.path ?? '';
  const st = await stat(folder).catch((err: NodeJS.ErrnoException) => {
    throw new ConnectionSetupError(`path ${folder}: folder cannot be used (${err.code ?? 'unreadable'})`, 'path');
  });
  if (!st.isDirectory()) throw new ConnectionSetupError(`path ${folder}: not a folder`, 'path');
  return createFsStore({ folders: { [s.buckets[0] ?? '']: folder }, writable: s.writable === true, name });
}

/**
 * The default {@link StoreFactory}: S3, Azure and Google stores wrapped with
 * retries (as the primary store) and, given a `cache`, read through it (the
 * storage cache; keys scoped by connection name); `fs` a host-folder store
 * whose folder must exist, never cached (it is local disk already). No
 * network request is made: credentials are tried on first use.
 */
export function defaultStoreFactory(retry: RetryOptions = {}, cache?: DiskCache, rangePassThroughBytes?: number): StoreFactory {
  return async (name, s) => {
    if (s.provider === 'fs') return fsStore(name, s);
    try {
      const store = withRetries(await cloudStore(s), retry);
      return cache === undefined ? store : withCache(store, cache, { scope: `conn:${name}`, rangePassThroughBytes });
    } catch (err) {
      const message = renameSettings(err instanceof Error ? err.message : String(err));
      const field = SETTING_NAMES.map(([, name]) => name).find((name) => message.includes(name));
      throw new ConnectionSetupError(message, field);
    }
  };
}

/** Shows the end of a key only: enough to tell keys apart, never enough to use one. */
export function maskKey(value: string | undefined): string | null {
  if (value === undefined) return null;
  return value.length >= 12 ? `****${value.slice(-4)}` : '****';
}

/**
 * An endpoint without what may be a credential: user info, query string (an
 * Azure URL pasted with its SAS token) and fragment.
 */
export function showEndpoint(endpoint: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) return endpoint.replace(/[?#].*$/s, '');
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return endpoint.replace(/[?#].*$/s, '').replace(/\/\/[^/@]*@/, '//');
  }
}

/** A connection's settings as replies show them: keys masked, secrets hidden, paths shown. */
export function publicSettings(s: ConnectionSettings): Record<string, unknown> {
  return {
    provider: s.provider,
    endpoint: s.endpoint === undefined ? null : showEndpoint(s.endpoint),
    access_key: maskKey(s.access_key),
    secret_key: s.secret_key === undefined ? null : '****',
    iam_role: s.iam_role ?? null,
    ...(s.rolesanywhere === undefined ? {} : { rolesanywhere: publicRolesAnywhere(s.rolesanywhere) }),
    region: s.region ?? null,
    credentials_path: s.credentials_path ?? null,
    credentials_json: s.credentials_json === undefined ? null : '****',
    path: s.path ?? null,
    buckets: [...s.buckets],
    writable: s.provider === 'fs' ? s.writable === true : null,
  };
}

/** A stable text of the settings: equal texts mean the store need not be rebuilt. */
export function settingsFingerprint(s: ConnectionSettings): string {
  return JSON.stringify(Object.entries(s).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)));
}
