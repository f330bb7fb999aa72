/**
 * Remote connections through the API (admin key only):
 * `remote-storage.connections.list|add|update|remove`, and the SDK's
 * `remote-storage.available_providers|supported_providers` (api-compat §7),
 * which list what those connections serve. Replies never carry secrets:
 * `secret_key` is `"****"`, `access_key` shows its last 4 characters at most.
 */
import { z } from 'zod';
import { publicSettings } from '../../links/connection-stores.ts';
import type { ConnectionView } from '../../links/connections.ts';
import type { LinkRegistry } from '../../links/registry.ts';
import { defineMethod, type ApiMethod } from '../api-method.ts';

/** A provider as the SDK lists it. */
interface ProviderInfo {
  id: 'minio' | 'google' | 'azure' | 'fs';
  name: string;
  defaultProtocol: string;
  protocols: string[];
}

/** Every provider links may use, with their link schemes (`s3://` and `minio://` both mean S3). */
export const SUPPORTED_PROVIDERS: readonly ProviderInfo[] = [
  { id: 'minio', name: 'Amazon S3', defaultProtocol: 's3:', protocols: ['s3:', 'minio:'] },
  { id: 'google', name: 'Google Cloud Storage', defaultProtocol: 'google:', protocols: ['google:', 'gcs:'] },
  { id: 'azure', name: 'Azure Storage', defaultProtocol: 'azure:', protocols: ['azure:'] },
  { id: 'fs', name: 'File system', defaultProtocol: 'fs:', protocols: ['fs:'] },
];

/** Providers with at least one serving connection, with the buckets they serve. */
export function availableProviders(registry: LinkRegistry): Array<ProviderInfo & { buckets: string[] }> {
  return SUPPORTED_PROVIDERS.flatMap((p) => {
    const buckets = [...new Set(registry.list().filter((c) => c.provider === p.id).flatMap((c) => c.buckets))].sort();
    return buckets.length === 0 ? [] : [{ ...p, protocols: [...p.protocols], buckets }];
  });
}

/** A connection as replies show it: masked settings, where it comes from, whether it serves. */
export function connectionReply(c: ConnectionView): Record<string, unknown> {
  return {
    name: c.name,
    source: c.source,
    active: c.active,
    problem: c.problem,
    ...(c.settings === null ? { provider: null, buckets: [] } : publicSettings(c.settings)),
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

const groupOnly = z.object({ groupId: z.coerce.number().optional() });
const named = z.looseObject({ name: z.string({ error: 'name: expected the connection name' }) });

const list = defineMethod({
  name: 'remote-storage.connections.list',
  verbs: ['GET', 'POST'],
  admin: true,
  input: groupOnly,
  handle: async ({ services }) => services.connections.list().map(connectionReply),
});

const add = defineMethod({
  name: 'remote-storage.connections.add',
  admin: true,
  input: named,
  handle: async ({ input, services }) => {
    const { name, ...settings } = input;
    return connectionReply(await services.connections.add(name, settings));
  },
});

const update = defineMethod({
  name: 'remote-storage.connections.update',
  admin: true,
  input: named,
  handle: async ({ input, services }) => {
    const { name, ...patch } = input;
    return connectionReply(await services.connections.update(name, patch));
  },
});

const remove = defineMethod({
  name: 'remote-storage.connections.remove',
  admin: true,
  input: z.object({ name: z.string({ error: 'name: expected the connection name' }) }),
  handle: async ({ input, services }) => {
    await services.connections.remove(input.name);
    return { success: true };
  },
});

const available = defineMethod({
  name: 'remote-storage.available_providers',
  verbs: ['GET', 'POST'],
  input: groupOnly,
  handle: async ({ services }) => availableProviders(services.links),
});

const supported = defineMethod({
  name: 'remote-storage.supported_providers',
  verbs: ['GET', 'POST'],
  input: groupOnly,
  handle: async () => SUPPORTED_PROVIDERS.map((p) => ({ ...p, protocols: [...p.protocols] })),
});

/** The connection methods. */
export const connectionMethods: ApiMethod[] = [list, add, update, remove, available, supported];
