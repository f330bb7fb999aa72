/**
 * The three disk caches of a Stowage, under `DATA_PATH/cache/<tier>`, sized
 * and aged by the seed's `CACHE_*` settings.
 */
import { join } from 'node:path';
import type { Config } from '../config/load-config.ts';
import { DiskCache } from './disk-cache.ts';

/** Tier names, as in stats, metrics and `stowage cache --tier`. */
export const CACHE_TIERS = ['storage', 'previews', 'converter'] as const;
export type CacheTier = (typeof CACHE_TIERS)[number];

/** One disk cache per tier. */
export type Caches = Record<CacheTier, DiskCache>;

/** The settings of each tier: `CACHE_STORAGE_*`, `CACHE_PREVIEWS_*`, `CACHE_IMAGE_CONVERTER_*`. */
function limitsOf(config: Config, tier: CacheTier): { sizeBytes: number; expiresMs: number } {
  return tier === 'converter' ? config.cache.imageConverter : config.cache[tier];
}

/** `DATA_PATH/cache/<tier>`. */
export function cacheDir(config: Config, tier: CacheTier): string {
  return join(config.dataPath, 'cache', tier);
}

/**
 * Opens one tier. `repair: false` is for a process beside a running server
 * (the CLI): it must not remove the server's fills in progress.
 */
export function openTier(config: Config, tier: CacheTier, o: { repair?: boolean } = {}): Promise<DiskCache> {
  const { sizeBytes, expiresMs } = limitsOf(config, tier);
  return DiskCache.open({ dir: cacheDir(config, tier), maxBytes: sizeBytes, maxAgeMs: expiresMs, name: tier, repair: o.repair });
}

/** Opens every tier (see {@link openTier}). */
export async function openCaches(config: Config, o: { repair?: boolean } = {}): Promise<Caches> {
  const opened: DiskCache[] = [];
  try {
    for (const tier of CACHE_TIERS) opened.push(await openTier(config, tier, o));
  } catch (err) {
    await Promise.allSettled(opened.map((c) => c.close()));
    throw err;
  }
  const [storage, previews, converter] = opened as [DiskCache, DiskCache, DiskCache];
  return { storage, previews, converter };
}

/** Closes every tier (saving access times and counters). */
export async function closeCaches(caches: Caches): Promise<void> {
  await Promise.allSettled(CACHE_TIERS.map((t) => caches[t].close()));
}
