/** Stowage's version, reported by `instance.version` and `stowage --version`. */
export const STOWAGE_VERSION = '0.1.0';
