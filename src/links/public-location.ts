/**
 * How a public http(s) link maps onto the bucket/key addressing of an
 * `ObjectStore`: the bucket is the URL's origin, the key the rest.
 */
import { StorageError } from '../storage/errors.ts';
import { PUBLIC_PROVIDER } from './ssrf-guard.ts';

/** Bucket and key of a public link in the public-link store. */
export interface PublicLinkLocation {
  /** The origin, e.g. `https://images.example.com` or `http://127.0.0.1:8080`. */
  bucket: string;
  /** Path without the leading `/`, plus the query string (`a/b.jpg?v=2`). */
  key: string;
}

/**
 * Bucket (origin) and key (path + query) of a link. Credentials and the
 * fragment are dropped: the store never sends user info from a link.
 */
export function publicLinkLocation(url: URL): PublicLinkLocation {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new StorageError('InvalidKey', `public links must be http(s) URLs, not ${url.protocol}`, { provider: PUBLIC_PROVIDER });
  }
  return { bucket: url.origin, key: url.pathname.slice(1) + url.search };
}

/**
 * The URL of a bucket/key pair made by {@link publicLinkLocation}. Throws
 * `InvalidKey` when the bucket is not an http(s) origin or the key would
 * leave it.
 */
export function publicLinkUrl(bucket: string, key: string): URL {
  const bad = (why: string) => new StorageError('InvalidKey', `not a public link location: ${why}`, { bucket, key, provider: PUBLIC_PROVIDER });
  let origin: URL;
  let url: URL;
  try {
    origin = new URL(bucket);
    url = new URL(`${bucket}/${key}`);
  } catch {
    throw bad('not a URL');
  }
  if ((origin.protocol !== 'http:' && origin.protocol !== 'https:') || origin.origin !== bucket) {
    throw bad(`bucket ${bucket.slice(0, 200)} is not an http(s) origin`);
  }
  if (url.origin !== bucket || key.includes('#')) throw bad('the key leaves the origin or has a fragment');
  return url;
}

/** The link text shown in messages: origin and path, without the query (it may hold a signature). */
export function linkLabel(url: URL): string {
  return url.origin + url.pathname;
}
