/** The host-folder store of the `fs` links provider. */
export { createFsStore, type FsStoreOptions } from './fs-store.ts';
export { FS_PROVIDER, FS_TMP_DIR } from './fs-checks.ts';
