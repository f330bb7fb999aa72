import type { Command } from 'commander';
import { parseDuration } from '../config/units.ts';
import { DEFAULT_BACKOFF, type BackoffOptions } from '../migrate/backoff.ts';
import type { CommandOutcome } from '../migrate/storage-command.ts';
import { CliError } from './cli-error.ts';
import { configFor } from './load.ts';

interface CommonFlags {
  concurrency: string;
  retries: string;
  retryDelay: string;
  retryMaxDelay: string;
  json?: boolean;
}

interface StorageFlags extends CommonFlags {
  to?: string;
  targetEnv?: string;
  bucketPrefix?: string;
  include: string[];
  exclude: string[];
  dryRun?: boolean;
  sizeOnly?: boolean;
}

interface ProjectFlags extends CommonFlags {
  to: string;
  keepTree?: boolean;
  restart?: boolean;
}

function positiveInt(value: string, flag: string, max: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new CliError(`${flag} "${value}": expected an integer from 1 to ${max}`, 2);
  return n;
}

function duration(value: string, flag: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new CliError(`${flag} "${value}": expected a duration such as 2s or 500ms`, 2);
  return ms;
}

function common(f: CommonFlags): { concurrency: number; backoff: BackoffOptions; json: boolean } {
  const minDelayMs = duration(f.retryDelay, '--retry-delay');
  const maxDelayMs = Math.max(minDelayMs, duration(f.retryMaxDelay, '--retry-max-delay'));
  return {
    concurrency: positiveInt(f.concurrency, '--concurrency', 1000),
    backoff: { attempts: positiveInt(f.retries, '--retries', 1000), minDelayMs, maxDelayMs },
    json: f.json === true,
  };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--concurrency <n>', 'objects in flight at once', '10')
    .option('--retries <n>', 'attempts per object (transient failures: 5xx, resets, cut transfers)', String(DEFAULT_BACKOFF.attempts))
    .option('--retry-delay <duration>', 'first wait between attempts, doubled each time', `${DEFAULT_BACKOFF.minDelayMs / 1000}s`)
    .option('--retry-max-delay <duration>', 'longest wait between attempts', `${DEFAULT_BACKOFF.maxDelayMs / 1000}s`)
    .option('--json', 'JSON lines (progress, failures, summary) even on a terminal');
}

function finish(outcome: CommandOutcome): void {
  if (outcome.code !== 0) throw new CliError(outcome.message ?? 'migration failed', outcome.code);
}

/**
 * `stowage migrate storage` (the whole primary storage to another store) and
 * `stowage migrate project <id> --to <scheme>://<bucket>/<dir>` (a project's
 * stored images or videos to a linked bucket, then re-pointed). Both are
 * resumable: run the same command again after a failure or a kill.
 */
export function registerMigrateCommands(program: Command): void {
  const migrate = program.command('migrate').description('move stored files to cloud storage (resumable, verified, the source is kept)');
  withCommonOptions(migrate.command('storage'))
    .description('copy both buckets of the primary storage to another store, key for key (then switch STORAGE_PROVIDER to it)')
    .option('--to <connection>', 'target: a connection of remote_links.yml or of the API (its endpoint and credentials)')
    .option('--target-env <file>', 'target: the STORAGE_* settings of this .env file (what the primary storage will be)')
    .option('--bucket-prefix <prefix>', 'target buckets <prefix>-public and <prefix>-private (default: the same names)')
    .option('--include <prefix>', 'only keys under this prefix (repeatable)', collect, [])
    .option('--exclude <prefix>', 'skip keys under this prefix (repeatable)', collect, [])
    .option('--dry-run', 'print what would be copied: objects, bytes, already present, conflicts; write nothing')
    .option('--size-only', 'treat an object of the same size as present without comparing checksums (no re-read of the source)')
    .action(async (flags: StorageFlags, cmd: Command) => {
      if ((flags.to === undefined) === (flags.targetEnv === undefined)) throw new CliError('give exactly one of --to <connection> or --target-env <file>', 2);
      const opts = common(flags);
      const config = configFor(cmd);
      // Loaded on use: the other commands need none of it.
      const { runStorageCommand } = await import('../migrate/storage-command.ts');
      finish(await runStorageCommand(config, {
        ...opts, to: flags.to, targetEnv: flags.targetEnv, bucketPrefix: flags.bucketPrefix, include: flags.include,
        exclude: flags.exclude, dryRun: flags.dryRun === true, sizeOnly: flags.sizeOnly === true,
      }));
    });
  withCommonOptions(migrate.command('project'))
    .description("upload a project's stored images or videos to a linked bucket, then re-point them there (the seed's migrate_project)")
    .argument('<projectId>', 'project id')
    .requiredOption('--to <target>', '<scheme>://<bucket>/<dir>: a bucket a connection allows, and a folder in it')
    .option('--keep-tree', 'nested dataset names as folders instead of <projectId>/<datasetId>')
    .option('--restart', 'start over instead of resuming an unfinished run (failed items are tried again either way)')
    .action(async (projectId: string, flags: ProjectFlags, cmd: Command) => {
      const opts = common(flags);
      const config = configFor(cmd);
      const { runProjectCommand } = await import('../migrate/project-command.ts');
      finish(await runProjectCommand(config, {
        ...opts, projectId: positiveInt(projectId, 'projectId', Number.MAX_SAFE_INTEGER), to: flags.to,
        keepTree: flags.keepTree === true, restart: flags.restart === true,
      }));
    });
}
