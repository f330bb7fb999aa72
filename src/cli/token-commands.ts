import type { Command } from 'commander';
import type { Catalog } from '../catalog/types.ts';
import { CliError } from './cli-error.ts';
import { configFor } from './load.ts';

async function withCatalog<T>(cmd: Command, fn: (c: Catalog, adminToken: string | undefined) => Promise<T>): Promise<T> {
  const config = configFor(cmd);
  // Loaded on use, like every heavy module of a command: main.ts registers all commands, so each loads only what it runs.
  const { createCatalog } = await import('../catalog/create-catalog.ts');
  const catalog = await createCatalog({ url: config.catalogUrl });
  try {
    return await fn(catalog, config.adminToken);
  } finally {
    await catalog.close();
  }
}

/** `stowage token create|list|revoke`: API keys, straight on the catalog. */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('manage API keys');
  token.command('create')
    .description('create an API key and print it (shown once)')
    .requiredOption('--name <name>', 'a label for the key')
    .option('--admin', 'grant admin rights', false)
    .action(async (opts: { name: string; admin: boolean }, cmd: Command) => {
      const { AuthService } = await import('../services/auth.ts');
      const created = await withCatalog(cmd, (c, admin) => new AuthService(c, admin).createKey(opts.name, opts.admin ? 'admin' : 'user'));
      process.stdout.write(`${created.key}\n`);
      process.stderr.write(`created key ${created.info.id} "${created.info.name}" (${created.info.role}); it is not shown again\n`);
    });
  token.command('list')
    .description('list API keys (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const keys = await withCatalog(cmd, (c) => c.apiKeys.list());
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
        return;
      }
      for (const k of keys) {
        const state = k.revokedAt === null ? 'active' : `revoked ${k.revokedAt}`;
        process.stdout.write(`${String(k.id).padStart(4)}  ${k.prefix}…  ${k.role.padEnd(5)}  ${k.name}  (${state})\n`);
      }
    });
  token.command('revoke')
    .description('revoke an API key by id or name')
    .argument('<idOrName>', 'key id or name')
    .action(async (idOrName: string, _opts: unknown, cmd: Command) => {
      const target = /^\d+$/.test(idOrName) ? Number(idOrName) : idOrName;
      const n = await withCatalog(cmd, (c) => c.apiKeys.revoke(target));
      if (n === 0) throw new CliError(`no active key with id or name "${idOrName}"`);
      // Running instances on a PostgreSQL catalog forget the key at once, not at the end of their cache lifetime.
      const { announceChange } = await import('../catalog/change-feed.ts');
      await announceChange(configFor(cmd).catalogUrl, 'api-keys');
      process.stdout.write(`revoked ${n} key(s)\n`);
    });
}
