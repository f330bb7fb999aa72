import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Catalog } from '../catalog/types.ts';
import type { Config } from '../config/load-config.ts';
import { generateKey, hashKey } from './auth.ts';

/** File the generated admin key is written to, under DATA_PATH. */
export const ADMIN_TOKEN_FILE = 'admin.token';

/**
 * Makes sure an admin key exists. With STOWAGE_ADMIN_TOKEN set, that is it.
 * Otherwise the first start (of any instance sharing the catalog) creates one,
 * stores only its hash and writes the key to DATA_PATH/admin.token (0600).
 */
export async function ensureAdminKey(config: Config, catalog: Catalog, log: Logger): Promise<void> {
  if (config.adminToken !== undefined) {
    log.info('admin key: STOWAGE_ADMIN_TOKEN');
    return;
  }
  const key = generateKey();
  const keyHash = hashKey(key);
  const file = join(config.dataPath, ADMIN_TOKEN_FILE);
  if ((await catalog.settings.setIfAbsent('admin-key-hash', keyHash)) !== keyHash) {
    log.info({ file }, 'admin key: created at first start (see admin.token, or set STOWAGE_ADMIN_TOKEN)');
    return;
  }
  await catalog.apiKeys.create({ name: 'admin', role: 'admin', prefix: key.slice(0, 10), keyHash });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  log.warn({ file }, 'admin key created and written to this file (mode 0600); keep it safe');
}

/** The HMAC secret for signed URLs, shared by every instance through the catalog. */
export async function urlSigningSecret(catalog: Catalog): Promise<string> {
  return catalog.settings.setIfAbsent('url-signing-secret', randomBytes(32).toString('hex'));
}
