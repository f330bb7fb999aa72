import type { Command } from 'commander';
import type { ACCESS_OPERATIONS, AccessResult, BucketAccess } from '../storage/access-check.ts';
import { parseDuration } from '../config/units.ts';
import { CliError } from './cli-error.ts';
import { configFor } from './load.ts';

/** The columns of the table: `ACCESS_OPERATIONS`, copied so as not to load the storage code before a command runs (tsc checks it is the same list). */
const OPERATIONS: typeof ACCESS_OPERATIONS = ['write', 'read', 'list', 'multipart', 'delete'];

function cell(r: AccessResult): string {
  if (r.ok) return 'ok';
  if (r.skipped === true) return '-';
  return r.kind;
}

/** Renders the check as a table, then one line per failure with its message. */
export function renderAccessTable(provider: string, endpoint: string, rows: BucketAccess[]): string {
  const header = ['provider', 'endpoint', 'bucket', ...OPERATIONS];
  const body = rows.map((r) => [provider, endpoint, r.bucket, ...OPERATIONS.map((op) => cell(r.results[op]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const details = rows.flatMap((r) => OPERATIONS.flatMap((op) => {
    const res = r.results[op];
    return res.ok || res.skipped === true ? [] : [`${r.bucket} ${op}: ${res.message}`];
  }));
  return [line(header), ...body.map(line), ...(details.length > 0 ? ['', ...details] : [])].join('\n');
}

/** `stowage storage check`: the start-up checks of both buckets, on demand. */
export function registerStorageCommands(program: Command): void {
  const storage = program.command('storage').description('primary storage');
  storage.command('check')
    .description('check read, write, list, multipart and delete on both buckets and print a table')
    .action(async (_opts: unknown, cmd: Command) => {
      const config = configFor(cmd);
      // Loaded on use, like every heavy module of a command: main.ts registers all commands, so each loads only what it runs.
      const { checkPrimaryBuckets, openPrimaryStore } = await import('../storage/create-store.ts');
      const { accessOk } = await import('../storage/access-check.ts');
      const { describeProviderEndpoint } = await import('../storage/provider-factory.ts');
      const { store } = await openPrimaryStore(config, { maxAttempts: 2 });
      try {
        const rows = await checkPrimaryBuckets(config, store);
        process.stdout.write(`${renderAccessTable(config.storage.provider, await describeProviderEndpoint(config), rows)}\n`);
        if (!rows.every(accessOk)) throw new CliError('storage check failed', 1);
      } finally {
        await store.close();
      }
    });
  storage.command('cleanup')
    .description('remove unfinished uploads (multipart parts, temp files) left by crashed processes')
    .option('--older-than <duration>', 'only uploads at least this old, e.g. 24h or 30m', '24h')
    .action(async (opts: { olderThan: string }, cmd: Command) => {
      const age = parseDuration(opts.olderThan);
      if (age === undefined) throw new CliError(`--older-than "${opts.olderThan}": expected a duration such as 24h or 30m`, 2);
      const config = configFor(cmd);
      const { ABANDONED_UPLOAD_AGE_MS, openPrimaryStore, sweepPrimaryBuckets } = await import('../storage/create-store.ts');
      const primary = await openPrimaryStore(config, { maxAttempts: 2 });
      try {
        const n = await sweepPrimaryBuckets(config, primary, age ?? ABANDONED_UPLOAD_AGE_MS);
        process.stdout.write(`removed ${n} abandoned upload(s) older than ${opts.olderThan}\n`);
      } finally {
        await primary.store.close();
      }
    });
}
