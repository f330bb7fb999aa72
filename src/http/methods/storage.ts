import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { Services } from '../../services/services.ts';
import { CONVERTER_ROOT } from '../../media/convert-url.ts';
import { derivedPathChain, PREVIEWS_ROOT } from '../../media/preview-paths.ts';
import { defineMethod, type ApiMethod } from '../api-method.ts';
import { linkOfRemotePath } from '../remote-routes.ts';
import { REMOTE_ROOT } from '../wire.ts';

/**
 * `storage.sign`: an expiring URL for a storage path (`pathOriginal`: our
 * buckets, or `/remote/…` of a linked object), or a preview or converter path
 * of one (`/previews/…`, `/image-converter/…`), that a browser can open
 * without the API key header. A query in `path` (the SDK's
 * `?videoStreamIndex=0`) is kept in the URL; only the path is signed.
 */
const sign = defineMethod({
  name: 'storage.sign',
  input: z.object({
    path: z.string().regex(/^\/[^?#]+(\?[^#]*)?$/, 'expected a storage path such as /stowage-public/images/original/…'),
    expiresIn: z.coerce.number().int().min(1).max(7 * 86_400).optional(),
  }),
  handle: async ({ input, services, baseUrl }) => {
    const q = input.path.indexOf('?');
    const [path, query] = q === -1 ? [input.path, ''] : [input.path.slice(0, q), input.path.slice(q + 1)];
    checkSignable(path, services);
    const ttlMs = input.expiresIn === undefined ? services.config.signedUrlTtlMs : input.expiresIn * 1000;
    const expiresAt = new Date(Date.now() + ttlMs);
    const signed = services.signer.sign(path, expiresAt);
    return { url: `${baseUrl}${path}?${query === '' ? '' : `${query}&`}${signed}`, expiresAt: expiresAt.toISOString() };
  },
});

/**
 * Refuses paths no route serves: other buckets, remote paths whose bucket no
 * connection allows, malformed previews, and previews of such paths.
 */
function checkSignable(path: string, services: Services): void {
  const { publicBucket, privateBucket } = services.config.storage;
  const root = path.split('/')[1];
  if (root === publicBucket || root === privateBucket) return;
  if (root === PREVIEWS_ROOT || root === CONVERTER_ROOT) {
    const chain = derivedPathChain(path, { publicBucket, privateBucket, remoteRoot: REMOTE_ROOT });
    checkSignable(chain[chain.length - 1] ?? '', services);
    return;
  }
  if (root !== REMOTE_ROOT) {
    throw new AppError('InvalidInput', `path: must start with /${publicBucket}/, /${privateBucket}/, /${REMOTE_ROOT}/, /${PREVIEWS_ROOT}/ or /${CONVERTER_ROOT}/`, { field: 'path' });
  }
  let rest: string;
  try {
    rest = decodeURIComponent(path.slice(REMOTE_ROOT.length + 2));
  } catch {
    throw new AppError('InvalidInput', 'path: malformed percent-encoding', { field: 'path' });
  }
  services.links.resolve(linkOfRemotePath(rest), 'path');
}

/** Stowage's own storage methods. */
export const storageMethods: ApiMethod[] = [sign];
