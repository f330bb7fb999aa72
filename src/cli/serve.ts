import type { Command } from 'commander';
import { CliError } from './cli-error.ts';
import { configFor } from './load.ts';

/** `stowage serve` (alias `up`): starts the HTTP service until SIGINT/SIGTERM. */
export function registerServe(program: Command): void {
  program.command('serve').alias('up')
    .description('start the HTTP service (HOST:PORT, data under DATA_PATH)')
    .action(async (_opts: unknown, cmd: Command) => {
      const config = configFor(cmd);
      // Loaded on use, like every heavy module of a command: main.ts registers all commands, so each loads only what it runs.
      const { createLogger } = await import('../logger.ts');
      const { createApp } = await import('../app.ts');
      const { RemoteLinksError } = await import('../links/remote-links-file.ts');
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
