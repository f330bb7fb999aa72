import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { defineMethod, type ApiMethod } from '../api-method.ts';

/**
 * `storage.sign`: an expiring URL for a storage path (`pathOriginal`) that a
 * browser can open without the API key header.
 */
const sign = defineMethod({
  name: 'storage.sign',
  input: z.object({
    path: z.string().regex(/^\/[^?#]+$/, 'expected a storage path such as /stowage-public/images/original/…'),
    expiresIn: z.coerce.number().int().min(1).max(7 * 86_400).optional(),
  }),
  handle: async ({ input, services, baseUrl }) => {
    const { publicBucket, privateBucket } = services.config.storage;
    const bucket = input.path.split('/')[1];
    if (bucket !== publicBucket && bucket !== privateBucket) {
      throw new AppError('InvalidInput', `path: must start with /${publicBucket}/ or /${privateBucket}/`, { field: 'path' });
    }
    const ttlMs = input.expiresIn === undefined ? services.config.signedUrlTtlMs : input.expiresIn * 1000;
    const expiresAt = new Date(Date.now() + ttlMs);
    return { url: `${baseUrl}${input.path}?${services.signer.sign(input.path, expiresAt)}`, expiresAt: expiresAt.toISOString() };
  },
});

/** Stowage's own storage methods. */
export const storageMethods: ApiMethod[] = [sign];
