import type { Command } from 'commander';
import type { CACHE_TIERS, CacheTier, openTier } from '../cache/cache-tiers.ts';
import type { CacheStats } from '../cache/disk-cache.ts';
import { CliError } from './cli-error.ts';
import { configFor } from './load.ts';
import { formatBytes } from '../config/units.ts';

interface TierFlags {
  tier?: string;
  json?: boolean;
}

/** `CACHE_TIERS`, copied for the help text: the cache code (node:sqlite) loads only when a command runs (tsc checks it is the same list). */
const TIERS: typeof CACHE_TIERS = ['storage', 'previews', 'converter'];

/** The stats of each tier as a table. */
export function renderStatsTable(rows: readonly CacheStats[]): string {
  const header = ['tier', 'entries', 'size', 'max', 'hits', 'misses', 'served', 'fetched', 'evictions'];
  const body = rows.map((s) => [
    s.name, String(s.entries), formatBytes(s.sizeBytes), formatBytes(s.maxBytes), String(s.hits), String(s.misses),
    formatBytes(s.bytesServed), formatBytes(s.bytesFetched), String(s.evictions),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...body.map(line)].join('\n');
}

function tiersOf(flag: string | undefined): readonly CacheTier[] {
  if (flag === undefined) return TIERS;
  if ((TIERS as readonly string[]).includes(flag)) return [flag as CacheTier];
  throw new CliError(`--tier "${flag}": expected one of ${TIERS.join(', ')}`, 2);
}

/** Runs `fn` on each chosen tier, opened beside a possibly running server (no repair). */
async function eachTier<T>(cmd: Command, flag: string | undefined, fn: (cache: Awaited<ReturnType<typeof openTier>>) => Promise<T>): Promise<T[]> {
  const tiers = tiersOf(flag);
  const config = configFor(cmd);
  // Loaded on use, like every heavy module of a command: main.ts registers all commands, so each loads only what it runs.
  const { openTier } = await import('../cache/cache-tiers.ts');
  const out: T[] = [];
  for (const tier of tiers) {
    const cache = await openTier(config, tier, { repair: false });
    try {
      out.push(await fn(cache));
    } finally {
      await cache.close();
    }
  }
  return out;
}

/**
 * `stowage cache stats|clear [--tier storage|previews|converter]`: the disk
 * caches under `DATA_PATH/cache`, read and changed directly (no server
 * needed). Counters are those the server last saved (every 10 s and at stop).
 */
export function registerCacheCommands(program: Command): void {
  const cache = program.command('cache').description('disk caches (remote originals, previews, conversions)');
  const tierHelp = `one cache: ${TIERS.join(', ')} (default: all)`;
  cache.command('stats')
    .description('entries, size, hits, misses, bytes served and fetched, evictions per cache')
    .option('--tier <tier>', tierHelp)
    .option('--json', 'print JSON instead of a table')
    .action(async (flags: TierFlags, cmd: Command) => {
      const rows = await eachTier(cmd, flags.tier, async (c) => c.stats());
      process.stdout.write(flags.json === true ? `${JSON.stringify(rows, null, 2)}\n` : `${renderStatsTable(rows)}\n`);
    });
  cache.command('clear')
    .description('remove every entry (a running server notices at its next lookup of each)')
    .option('--tier <tier>', tierHelp)
    .action(async (flags: TierFlags, cmd: Command) => {
      const lines = await eachTier(cmd, flags.tier, async (c) => {
        const { name, entries, sizeBytes } = c.stats();
        await c.clear();
        return `cleared ${name}: ${entries} entries, ${formatBytes(sizeBytes)}`;
      });
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
