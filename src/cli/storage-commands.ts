import type { Command } from 'commander';
import { ACCESS_OPERATIONS, accessOk, type AccessResult, type BucketAccess } from '../storage/access-check.ts';
import { checkPrimaryBuckets, openPrimaryStore } from '../storage/create-store.ts';
import { describeProviderEndpoint } from '../storage/provider-factory.ts';
import { CliError } from './cli-error.ts';
import { configFor } from './load.ts';

function cell(r: AccessResult): string {
  if (r.ok) return 'ok';
  if (r.skipped === true) return '-';
  return r.kind;
}

/** Renders the check as a table, then one line per failure with its message. */
export function renderAccessTable(provider: string, endpoint: string, rows: BucketAccess[]): string {
  const header = ['provider', 'endpoint', 'bucket', ...ACCESS_OPERATIONS];
  const body = rows.map((r) => [provider, endpoint, r.bucket, ...ACCESS_OPERATIONS.map((op) => cell(r.results[op]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const details = rows.flatMap((r) => ACCESS_OPERATIONS.flatMap((op) => {
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
      const store = openPrimaryStore(config, { maxAttempts: 2 });
      try {
        const rows = await checkPrimaryBuckets(config, store);
        process.stdout.write(`${renderAccessTable(config.storage.provider, describeProviderEndpoint(config), rows)}\n`);
        if (!rows.every(accessOk)) throw new CliError('storage check failed', 1);
      } finally {
        await store.close();
      }
    });
}
