import type { Command } from 'commander';
import { createApp } from '../app.ts';
import { RemoteLinksError } from '../links/remote-links-file.ts';
import { CliError } from './cli-error.ts';
import { createLogger } from '../logger.ts';
import { configFor } from './load.ts';

/** `stowage serve` (alias `up`): starts the HTTP service until SIGINT/SIGTERM. */
export function registerServe(program: Command): void {
  program.command('serve').alias('up')
    .description('start the HTTP service (HOST:PORT, data under DATA_PATH)')
    .action(async (_opts: unknown, cmd: Command) => {
      const config = configFor(cmd);
      const log = createLogger(config.logLevel);
      const app = await createApp(config, log).catch((err: unknown) => {
        // Like a bad setting: exit 2 with every line to fix.
        throw err instanceof RemoteLinksError ? new CliError(err.message, 2) : err;
      });
      const address = await app.server.listen({ host: config.host, port: config.port });
      log.info({ address, dataPath: config.dataPath, provider: config.storage.provider }, 'stowage is listening');
      const stop = async (signal: string) => {
        log.info({ signal }, 'shutting down');
        await app.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}
