import type { Config } from '../config/load-config.ts';
import { accessFailures, accessOk, checkBucketAccess, type BucketAccess } from './access-check.ts';
import { StorageError } from './errors.ts';
import type { ObjectStore } from './object-store.ts';
import { buildProviderStore, describeProviderEndpoint, type ProviderStore, type StoreLog } from './provider-factory.ts';
import { withRetries, type RetryOptions } from './retrying-store.ts';

/** What to tell the operator to fix when a bucket check fails, per provider. */
const FIX_HINTS: Record<Config['storage']['provider'], string> = {
  http: 'check that DATA_PATH/storage is writable by this user',
  minio: 'check STORAGE_ENDPOINT and the permissions of STORAGE_ACCESS_KEY (or STORAGE_IAM_ROLE, or the role of STORAGE_ROLESANYWHERE_ROLE_ARN) on this bucket ' +
    '(s3:GetObject, s3:PutObject, s3:ListBucket, s3:DeleteObject, s3:ListBucketMultipartUploads, s3:AbortMultipartUpload)',
  azure: 'check STORAGE_ACCESS_KEY/STORAGE_SECRET_KEY; a SAS token needs read, add, create, write, delete and list permissions',
  google: 'check STORAGE_CREDENTIALS_PATH: the service account needs roles/storage.objectAdmin on this bucket',
};

/** Unfinished uploads older than this are abandoned (a crashed process left them). */
export const ABANDONED_UPLOAD_AGE_MS = 24 * 3600_000;

/** The provider store with the retry layer, without checks, and its sweeper; `log` hears of a slow local disk. */
export async function openPrimaryStore(config: Config, retry: RetryOptions = {}, log?: StoreLog): Promise<ProviderStore> {
  const raw = await buildProviderStore(config, log);
  return config.storage.provider === 'http' ? raw : { ...raw, store: withRetries(raw.store, retry) };
}

/** Sweeps abandoned uploads of both buckets; returns how many were removed. */
export async function sweepPrimaryBuckets(config: Config, p: ProviderStore, olderThanMs = ABANDONED_UPLOAD_AGE_MS): Promise<number> {
  let n = 0;
  for (const bucket of [config.storage.publicBucket, config.storage.privateBucket]) n += await p.sweepAbandoned(bucket, olderThanMs);
  return n;
}

/** Runs the access checks on both buckets (creating them first when allowed). */
export async function checkPrimaryBuckets(config: Config, store: ObjectStore): Promise<BucketAccess[]> {
  const { publicBucket, privateBucket, createBuckets, provider } = config.storage;
  const out: BucketAccess[] = [];
  for (const bucket of [publicBucket, privateBucket]) {
    if (createBuckets || provider === 'http') await store.ensureBucket(bucket);
    out.push(await checkBucketAccess(store, bucket, { multipart: provider === 'minio' }));
  }
  return out;
}

/**
 * The primary store chosen by `STORAGE_PROVIDER`, checked: both buckets must
 * be readable, writable, listable (and multipart-capable on S3), or the start
 * fails naming the bucket, the operation and the settings to fix.
 */
export async function createPrimaryStore(config: Config, log?: StoreLog): Promise<ProviderStore> {
  const opened = await openPrimaryStore(config, {}, log);
  const { store } = opened;
  try {
    const checks = await checkPrimaryBuckets(config, store);
    const failures = checks.filter((c) => !accessOk(c)).flatMap(accessFailures);
    if (failures.length > 0) {
      const where = `${config.storage.provider} at ${await describeProviderEndpoint(config)}`;
      throw new StorageError('ConfigInvalid', `storage (${where}) is not usable:\n  ${failures.join('\n  ')}\n  fix: ${FIX_HINTS[config.storage.provider]}`, {
        provider: config.storage.provider,
      });
    }
    return opened;
  } catch (err) {
    await store.close();
    throw err;
  }
}
