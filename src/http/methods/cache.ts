import { z } from 'zod';
import { CACHE_TIERS, type CacheTier } from '../../cache/cache-tiers.ts';
import type { Services } from '../../services/services.ts';
import { defineMethod, type ApiMethod } from '../api-method.ts';

const tierInput = z.object({ tier: z.enum(CACHE_TIERS).optional() });

function tiersOf(tier: CacheTier | undefined): readonly CacheTier[] {
  return tier === undefined ? CACHE_TIERS : [tier];
}

function memoryOf(services: Services): { sizeBytes: number; entries: number; maxBytes: number } {
  const { bytes, entries, maxBytes } = services.hot.stats();
  return { sizeBytes: bytes, entries, maxBytes };
}

/**
 * `cache.stats` (GET or POST, admin): `{caches: [{name, hits, misses,
 * bytesServed, bytesFetched, evictions, sizeBytes, entries, maxBytes}], memory:
 * {sizeBytes, entries, maxBytes}}`, for every disk cache or `tier`.
 */
const stats = defineMethod({
  name: 'cache.stats',
  verbs: ['GET', 'POST'],
  admin: true,
  input: tierInput,
  handle: async ({ input, services }) => ({
    caches: tiersOf(input.tier).map((t) => services.caches[t].stats()),
    memory: memoryOf(services),
  }),
});

/** `cache.clear` (admin): empties every disk cache, or `tier`; `{cleared: [{name, entries, sizeBytes}]}`. */
const clear = defineMethod({
  name: 'cache.clear',
  admin: true,
  input: tierInput,
  handle: async ({ input, services }) => {
    const cleared = [];
    for (const t of tiersOf(input.tier)) {
      const { name, entries, sizeBytes } = services.caches[t].stats();
      await services.caches[t].clear();
      cleared.push({ name, entries, sizeBytes });
    }
    return { cleared };
  },
});

/** Methods of Stowage's caches. */
export const cacheMethods: ApiMethod[] = [stats, clear];
