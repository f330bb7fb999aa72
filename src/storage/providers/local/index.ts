/** The local-disk object store (provider `http`). */
export { createLocalStore, LOCAL_MAX_OBJECT_SIZE, type LocalStore, type LocalStoreOptions } from './local-store.ts';
