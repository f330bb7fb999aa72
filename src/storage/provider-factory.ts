import { join } from 'node:path';
import type { Config } from '../config/load-config.ts';
import type { ObjectStore } from './object-store.ts';
import { createAzureStore, describeAzureEndpoint } from './providers/azure/index.ts';
import { createGcsStore, describeGcsEndpoint } from './providers/gcs/index.ts';
import { createLocalStore } from './providers/local/index.ts';
import { abortStaleMultipartUploads, createS3Store, describeS3Endpoint } from './providers/s3/index.ts';

type StorageSettings = Config['storage'];

function s3Options(s: StorageSettings) {
  return { endpoint: s.endpoint, port: s.port, accessKey: s.accessKey, secretKey: s.secretKey, region: s.region, iamRole: s.iamRole };
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

/** Builds the raw store for `STORAGE_PROVIDER` from the settings (validated by `loadConfig`). */
export function buildProviderStore(config: Config): ProviderStore {
  const s = config.storage;
  switch (s.provider) {
    case 'http': {
      const store = createLocalStore({ root: config.storagePath, tmpDir: join(config.dataPath, 'tmp', 'storage') });
      return { store, sweepAbandoned: (_bucket, olderThanMs) => store.sweepTmp({ olderThanMs }) };
    }
    case 'minio': {
      const store = createS3Store(s3Options(s));
      return { store, sweepAbandoned: (bucket, olderThanMs) => abortStaleMultipartUploads(store, bucket, olderThanMs) };
    }
    case 'azure':
      // Uncommitted blocks expire by themselves in Azure (after a week); nothing to sweep.
      return { store: createAzureStore(azureOptions(s)), sweepAbandoned: async () => 0 };
    case 'google': {
      const store = createGcsStore(gcsOptions(s));
      return { store, sweepAbandoned: (bucket, olderThanMs) => store.sweepParts(bucket, { olderThanMs }) };
    }
  }
}

/** Where the primary store is, for messages (never with secrets). */
export function describeProviderEndpoint(config: Config): string {
  const s = config.storage;
  switch (s.provider) {
    case 'http':
      return config.storagePath;
    case 'minio':
      return describeS3Endpoint(s3Options(s));
    case 'azure':
      return describeAzureEndpoint(azureOptions(s));
    case 'google':
      return describeGcsEndpoint(gcsOptions(s));
  }
}
