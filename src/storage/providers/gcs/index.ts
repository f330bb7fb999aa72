/** The Google Cloud Storage object store (provider `google`). */
export { createGcsStore, type GcsStore } from './gcs-store.ts';
export {
  DEFAULT_GCS_ENDPOINT,
  describeGcsEndpoint,
  loadServiceAccount,
  resolveGcsEndpoint,
  type GcsStoreOptions,
  type ServiceAccount,
} from './gcs-config.ts';
export { GCS_MAX_OBJECT_SIZE, MULTIPART_PREFIX } from './gcs-objects.ts';
export { GCS_PROVIDER } from './gcs-errors.ts';
