import type { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config/load-config.ts';
import { CliError } from './cli-error.ts';

/** Loads settings for a command, honouring the global `--env-file`. */
export function configFor(cmd: Command): Config {
  const envFile = cmd.optsWithGlobals<{ envFile?: string }>().envFile;
  try {
    return loadConfig(envFile === undefined ? {} : { envFile });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
}
