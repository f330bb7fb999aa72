/**
 * Loads @peculiar/x509 (certificate building on Node's WebCrypto; node:crypto
 * can verify certificates but not issue them). Its dependency injection
 * (tsyringe) needs the `reflect-metadata` API installed first.
 */
type X509Module = typeof import('@peculiar/x509');

let loaded: Promise<X509Module> | undefined;

/** The library, loaded once on first use (certificate commands and tests only). */
export function loadX509(): Promise<X509Module> {
  loaded ??= import('reflect-metadata').then(() => import('@peculiar/x509'));
  return loaded;
}
