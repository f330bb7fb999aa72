/** The S3-compatible object store (provider `minio`). */
export { createS3Store, type S3Store } from './s3-store.ts';
export { describeS3Endpoint, type S3StoreLogger, type S3StoreOptions } from './options.ts';
export { abortStaleMultipartUploads, listStaleMultipartUploads, type StaleMultipartUpload } from './cleanup.ts';
export { S3_PROVIDER, toS3Error } from './errors.ts';
export { S3_MAX_OBJECT_SIZE } from './writes.ts';
