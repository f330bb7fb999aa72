import { Command, CommanderError } from 'commander';
import { STOWAGE_VERSION } from '../version.ts';
import { registerConfigCommands } from './config-commands.ts';
import { registerServe } from './serve.ts';
import { registerTokenCommands } from './token-commands.ts';
import { registerStorageCommands } from './storage-commands.ts';
import { CliError } from './cli-error.ts';
import { registerGcCommands } from './gc-commands.ts';
import { registerLinksCommands } from './links-commands.ts';
import { registerCacheCommands } from './cache-commands.ts';
import { registerCertsCommands } from './certs-commands.ts';
import { registerMigrateCommands } from './migrate-commands.ts';

/** Builds the `stowage` command line. */
export function buildCli(): Command {
  const program = new Command('stowage')
    .description('Stowage: storage for computer-vision data (images, videos, models)')
    .version(STOWAGE_VERSION)
    .option('--env-file <path>', 'settings file (default: ./.env)')
    .showHelpAfterError();
  registerServe(program);
  registerConfigCommands(program);
  registerTokenCommands(program);
  registerStorageCommands(program);
  registerGcCommands(program);
  registerLinksCommands(program);
  registerCacheCommands(program);
  registerCertsCommands(program);
  registerMigrateCommands(program);
  return program;
}

/** Runs the CLI; errors print one clear line and exit non-zero. */
export async function runCli(argv: string[]): Promise<void> {
  const program = buildCli().exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`stowage: ${message}\n`);
    process.exit(err instanceof CliError ? err.exitCode : 1);
  }
}

if (import.meta.main) await runCli(process.argv);
