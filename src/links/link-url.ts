import { AppError } from '../errors.ts';

/** Link schemes and the provider each one means. */
export const SCHEME_PROVIDERS: Readonly<Record<string, 'minio' | 'google' | 'azure' | 'fs'>> = {
  s3: 'minio', minio: 'minio', google: 'google', gcs: 'google', azure: 'azure', fs: 'fs',
};

/** A parsed bucket link `<scheme>://<bucket>/<key>` or a public `http(s)://` URL. */
export type ParsedLink =
  | { kind: 'bucket'; scheme: string; provider: 'minio' | 'google' | 'azure' | 'fs'; bucket: string; key: string }
  | { kind: 'public'; url: URL };

/**
 * Parses and validates the form of a link (not whether it resolves). Throws
 * `InvalidInput` naming `field` and saying what is expected.
 */
export function parseLink(link: string, field = 'link'): ParsedLink {
  const m = /^([a-z0-9]+):\/\/([^/]+)\/(.+)$/i.exec(link);
  const scheme = m?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') {
    try {
      return { kind: 'public', url: new URL(link) };
    } catch {
      throw bad(field, link);
    }
  }
  const provider = scheme === undefined ? undefined : SCHEME_PROVIDERS[scheme];
  if (m === null || scheme === undefined || provider === undefined || m[2] === undefined || m[3] === undefined) {
    throw bad(field, link);
  }
  const key = m[3];
  if (key.split('/').some((s) => s === '..' || s === '.') || key.includes('\0')) {
    throw new AppError('InvalidInput', `${field}: "${link}" contains "." or ".." segments`, { field });
  }
  if (hasEncodedTraversal(key)) {
    throw new AppError('InvalidInput', `${field}: "${link}" contains percent-encoded "." or ".." segments or NUL`, { field });
  }
  return { kind: 'bucket', scheme, provider, bucket: m[2], key };
}

function bad(field: string, link: string): AppError {
  const schemes = Object.keys(SCHEME_PROVIDERS).join(', ');
  return new AppError(
    'InvalidInput',
    `${field}: "${link.slice(0, 200)}" is not a valid link: expected <scheme>://<bucket>/<key> (scheme one of ${schemes}) or an http(s) URL`,
    { field },
  );
}

/**
 * True when percent-decoding the key (up to three times, for double encoding)
 * yields a `.` or `..` segment or a NUL. Keys are used as written, never
 * decoded, but a layer that does decode (a proxy, an SDK, a host folder served
 * elsewhere) must not turn an accepted link into a path traversal.
 */
function hasEncodedTraversal(key: string): boolean {
  let current = key;
  for (let round = 0; round < 3 && current.includes('%'); round++) {
    // Byte-wise: only ASCII ('.', '/', '\\', NUL) matters here, and malformed escapes never throw.
    const decoded = current.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (decoded === current) return false;
    if (decoded.includes('\0') || decoded.split(/[/\\]/).some((s) => s === '..' || s === '.')) return true;
    current = decoded;
  }
  return false;
}
