import type { Command } from 'commander';
import { parseDuration } from '../config/units.ts';
import type { GcReport } from '../services/gc.ts';
import { CliError } from './cli-error.ts';
import { configFor } from './load.ts';

interface GcFlags {
  dryRun?: boolean;
  minAge: string;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function summary(r: GcReport, dryRun: boolean): string {
  const verb = dryRun ? 'would remove' : 'removed';
  const lines = [`${verb} ${r.count} blob(s), ${r.bytes} bytes (${mib(r.bytes)})`];
  if (r.young > 0) lines.push(`kept ${r.young} unreferenced blob(s) younger than --min-age`);
  if (r.failed > 0) lines.push(`${r.failed} object(s) could not be deleted (their records are gone; see above)`);
  return `${lines.join('\n')}\n`;
}

/**
 * `stowage gc [--dry-run] [--min-age 1h]`: removes stored originals that no
 * image or video references any more, straight on the catalog and the
 * primary store (no server needed). `--dry-run` prints each blob's key and
 * size, then the total.
 */
export function registerGcCommands(program: Command): void {
  program.command('gc')
    .description('remove stored originals (content-addressed blobs) no image or video references any more')
    .option('--dry-run', 'list what would be removed (key and size) and the total; change nothing')
    .option('--min-age <duration>', 'keep blobs stored more recently than this (uploads not registered yet)', '1h')
    .action(async (flags: GcFlags, cmd: Command) => {
      const minAgeMs = parseDuration(flags.minAge);
      if (minAgeMs === undefined) throw new CliError(`--min-age "${flags.minAge}": expected a duration such as 1h or 30m`, 2);
      const config = configFor(cmd);
      // Loaded on use, like every heavy module of a command: main.ts registers all commands, so each loads only what it runs.
      const { createCatalog } = await import('../catalog/create-catalog.ts');
      const { openPrimaryStore } = await import('../storage/create-store.ts');
      const { openTier } = await import('../cache/cache-tiers.ts');
      const { withCache } = await import('../cache/caching-store.ts');
      const { collectGarbage } = await import('../services/gc.ts');
      const catalog = await createCatalog({ url: config.catalogUrl });
      const { store: primary } = await openPrimaryStore(config, { maxAttempts: 2 });
      // Deleting through the storage cache drops its copy too, or the server would go on serving removed originals.
      const cache = config.storage.provider === 'http' ? undefined : await openTier(config, 'storage', { repair: false });
      const store = cache === undefined ? primary : withCache(primary, cache, { scope: 'primary' });
      try {
        const dryRun = flags.dryRun === true;
        const report = await collectGarbage({
          catalog, store, dryRun, minAgeMs,
          onBlob: (b) => process.stdout.write(`${b.bucket}/${b.key}\t${b.size}\n`),
          onError: (b, err) => process.stderr.write(`cannot delete ${b.bucket}/${b.key}: ${err instanceof Error ? err.message : String(err)}\n`),
        });
        process.stdout.write(summary(report, dryRun));
        if (report.failed > 0) throw new CliError('gc finished with errors', 1);
      } finally {
        await store.close();
        await cache?.close();
        await catalog.close();
      }
    });
}
