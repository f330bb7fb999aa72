import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { SECRET_SETTINGS } from '../config/schema.ts';
import { CliError } from './cli-error.ts';
import { configFor } from './load.ts';

/** `stowage where` and `stowage config check`. */
export function registerConfigCommands(program: Command): void {
  program.command('where')
    .description('print DATA_PATH, the storage folders and the config files in use')
    .action((_opts: unknown, cmd: Command) => {
      const c = configFor(cmd);
      const rows: Array<[string, string]> = [
        ['DATA_PATH', c.dataPath],
        ['storage provider', c.storage.provider],
        ['public bucket', c.storage.provider === 'http' ? `${c.storagePath}/${c.storage.publicBucket}` : c.storage.publicBucket],
        ['private bucket', c.storage.provider === 'http' ? `${c.storagePath}/${c.storage.privateBucket}` : c.storage.privateBucket],
        ['catalog', redactUrl(c.catalogUrl)],
        ['.env', c.envFile ?? '(none)'],
        ['remote_links.yml', existsSync(c.remoteLinksPath) ? c.remoteLinksPath : `${c.remoteLinksPath} (not present)`],
      ];
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(18)} ${v}\n`);
    });
  const config = program.command('config').description('settings');
  config.command('check')
    .description('validate .env and the environment (and remote_links.yml when present) without starting')
    .action(async (_opts: unknown, cmd: Command) => {
      const c = configFor(cmd);
      process.stdout.write(`settings are valid (${c.envFile ?? 'environment only'}); ${SECRET_SETTINGS.size} secret settings are never printed\n`);
      // Loaded on use, like every heavy module of a command: main.ts registers all commands, so each loads only what it runs.
      const { checkRemoteLinks } = await import('../links/remote-links-file.ts');
      const { defaultStoreFactory } = await import('../links/connection-stores.ts');
      const links = await checkRemoteLinks(c.remoteLinksPath, defaultStoreFactory());
      if (links.errors.length > 0) throw new CliError(`${c.remoteLinksPath} is invalid:\n  ${links.errors.join('\n  ')}`, 2);
      if (!links.missing) process.stdout.write(`${c.remoteLinksPath} is valid: ${links.connections.length} connection(s) ${links.connections.join(', ')}\n`);
    });
}

/** Hides a password in a connection URL. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:[hidden]@');
}
