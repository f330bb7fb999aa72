import { join } from 'node:path';
import type { Config } from '../config/load-config.ts';
import { envFieldName } from '../rolesanywhere/settings.ts';
import type { ObjectStore } from './object-store.ts';
import { describeAzureEndpoint } from './providers/azure/options.ts';
import { createLocalStore } from './providers/local/index.ts';

type StorageSettings = Config['storage'];

function s3Options(s: StorageSettings) {
  return {
    endpoint: s.endpoint, port: s.port, accessKey: s.accessKey, secretKey: s.secretKey, region: s.region, iamRole: s.iamRole,
    // Messages about the primary storage name the .env variables (STORAGE_ROLESANYWHERE_PRIVATE_KEY).
    rolesAnywhere: s.rolesAnywhere, rolesAnywhereOptions: { fieldName: envFieldName },
  };
}

function azureOptions(s: StorageSettings) {
  return { endpoint: s.endpoint ?? '', accountName: s.accessKey ?? '', secret: s.secretKey ?? '' };
}

function gcsOptions(s: StorageSettings) {
  return { credentialsPath: s.credentialsPath, endpoint: s.endpoint };
}

/** A provider's store and its way of clearing uploads abandoned by crashed processes. */
export interface ProviderStore {
  store: ObjectStore;
  /** Removes unfinished uploads older than `olderThanMs` in `bucket`; returns how many. */
  sweepAbandoned(bucket: string, olderThanMs: number): Promise<number>;
}

/*
 * Cloud providers are imported on first use: each SDK costs 35-40 MiB of
 * resident memory, and a process needs at most the ones it is configured for.
 */

/** Where a store reports conditions an operator should know of (a pino logger fits). */
export interface StoreLog {
  warn(message: string): void;
  debug(message: string): void;
}

/** A slow local disk is worth a warning, but not one every half minute for as long as it is slow. */
const SLOW_DISK_WARN_EVERY_MS = 3600_000;

/** Warns of a slow local disk at most once an hour; the repeats go to debug. */
export function slowDiskLog(log: StoreLog): (message: string) => void {
  let warnedAt = Number.NEGATIVE_INFINITY;
  return (message) => {
    if (Date.now() - warnedAt < SLOW_DISK_WARN_EVERY_MS) return log.debug(message);
    warnedAt = Date.now();
    log.warn(message);
  };
}

/** Builds the raw store for `STORAGE_PROVIDER` from the settings (validated by `loadConfig`). */
export async function buildProviderStore(config: Config, log?: StoreLog): Promise<ProviderStore> {
  const s = config.storage;
  switch (s.provider) {
    case 'http': {
      const store = createLocalStore({
        root: config.storagePath, tmpDir: join(config.dataPath, 'tmp', 'storage'),
        onSlowDisk: log === undefined ? undefined : slowDiskLog(log),
      });
      return { store, sweepAbandoned: (_bucket, olderThanMs) => store.sweepTmp({ olderThanMs }) };
    }
    case 'minio': {
      const { createS3Store, abortStaleMultipartUploads } = await import('./providers/s3/index.ts');
      const store = createS3Store(s3Options(s));
      return { store, sweepAbandoned: (bucket, olderThanMs) => abortStaleMultipartUploads(store, bucket, olderThanMs) };
    }
    case 'azure': {
      const { createAzureStore } = await import('./providers/azure/index.ts');
      // Uncommitted blocks expire by themselves in Azure (after a week); nothing to sweep.
      return { store: createAzureStore(azureOptions(s)), sweepAbandoned: async () => 0 };
    }
    case 'google': {
      const { createGcsStore } = await import('./providers/gcs/index.ts');
      const store = createGcsStore(gcsOptions(s));
      return { store, sweepAbandoned: (bucket, olderThanMs) => store.sweepParts(bucket, { olderThanMs }) };
    }
  }
}

/** Where the primary store is, for messages (never with secrets). */
export async function describeProviderEndpoint(config: Config): Promise<string> {
  const s = config.storage;
  switch (s.provider) {
    case 'http':
      return config.storagePath;
    case 'minio':
      return (await import('./providers/s3/index.ts')).describeS3Endpoint(s3Options(s));
    case 'azure':
      return describeAzureEndpoint(azureOptions(s));
    case 'google':
      return (await import('./providers/gcs/index.ts')).describeGcsEndpoint(gcsOptions(s));
  }
}
