/**
 * How preview and converter paths nest: `/previews/…/plain/<inner>` reads
 * `/<inner>`, which is a storage path or a converter path, and
 * `/image-converter/…/<path>` reads a storage path. Used to check what a
 * signed URL may open and what `storage.sign` may sign.
 */
import { CONVERTER_ROOT, converterStoragePath, parseConverterUrl } from './convert-url.ts';
import { parsePreviewUrl } from './preview-url.ts';

/** First segment of preview paths. */
export const PREVIEWS_ROOT = 'previews';

/** Our two bucket names and the first segment of linked objects' paths. */
export interface PathRoots {
  publicBucket: string;
  privateBucket: string;
  remoteRoot: string;
}

/**
 * `path` (percent-encoded, leading `/`, no query) followed by every path it
 * reads from, down to the storage path; just `[path]` when it is not a
 * preview or converter path.
 * @throws AppError `InvalidInput` when a preview or converter part is malformed.
 */
export function derivedPathChain(path: string, roots: PathRoots): string[] {
  const chain = [path];
  for (let inner = innerPath(path, roots); inner !== undefined; inner = innerPath(inner, roots)) chain.push(inner);
  return chain;
}

function innerPath(path: string, roots: PathRoots): string | undefined {
  const [root, rest] = splitRoot(path);
  if (root === PREVIEWS_ROOT) return `/${parsePreviewUrl(rest).source}`;
  if (root === CONVERTER_ROOT) return `/${converterStoragePath(parseConverterUrl(rest).source, roots, roots.remoteRoot)}`;
  return undefined;
}

/** `/<root>/<rest>` → `[root, rest]`. */
export function splitRoot(path: string): [string, string] {
  const slash = path.indexOf('/', 1);
  return slash === -1 ? [path.slice(1), ''] : [path.slice(1, slash), path.slice(slash + 1)];
}
