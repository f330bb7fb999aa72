/**
 * `remote-storage.connections.test` (admin key only): the checks of
 * `stowage storage check` (write, read, list, multipart on S3, delete of a
 * probe object under `.stowage-check/`) run against every allowed bucket of a
 * connection, one result per bucket and operation.
 *
 * - `{name}`: the connection as it serves now (remote_links.yml or the API).
 * - `{name?, settings}`: settings not saved yet, e.g. a form before "Save",
 *   validated exactly as `remote-storage.connections.add` validates them;
 *   with the `name` of an API connection, `settings` is a patch of its stored
 *   settings (`null` unsets a field), as `remote-storage.connections.update`.
 *   The store is built for the test and closed after it; nothing is saved.
 *
 * Replies and messages never carry a secret: every secret value of the
 * settings is blanked out of the provider's messages as a second guard.
 */
import { z } from 'zod';
import { AppError, invalidInput } from '../../errors.ts';
import { applyPatch, validateSettings } from '../../links/connection-api.ts';
import type { ConnectionSettings } from '../../links/connection-schema.ts';
import { ConnectionSetupError, defaultStoreFactory, renameSettings } from '../../links/connection-stores.ts';
import { ACCESS_OPERATIONS, checkBucketAccess, type AccessResult, type BucketAccess } from '../../storage/access-check.ts';
import type { ObjectStore } from '../../storage/object-store.ts';
import type { Services } from '../../services/services.ts';
import { defineMethod, type ApiMethod } from '../api-method.ts';

/** One operation's outcome as the reply shows it. */
export type OperationOutcome = { status: 'ok' } | { status: 'skipped' } | { status: 'failed'; kind: string; message: string };

/** One bucket's outcomes, by operation. */
export interface BucketTestResult {
  bucket: string;
  ok: boolean;
  results: Record<(typeof ACCESS_OPERATIONS)[number], OperationOutcome>;
}

/** The reply of `remote-storage.connections.test`. */
export interface ConnectionTestReply {
  name: string | null;
  provider: string;
  /** Whether the settings tested were saved ones. */
  saved: boolean;
  ok: boolean;
  operations: readonly string[];
  buckets: BucketTestResult[];
}

// A broken credential must not keep the page waiting through long retry back-offs.
const TEST_RETRY = { maxAttempts: 2 } as const;

const input = z.object({
  name: z.string().min(1).max(63).optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
}).refine((v) => v.name !== undefined || v.settings !== undefined, {
  message: 'expected name (a saved connection) or settings (to test before saving)', path: ['name'],
});

/** Every secret value of the settings, longest first, for scrubbing. */
function secretsOf(s: ConnectionSettings | null | undefined): string[] {
  if (s === null || s === undefined) return [];
  const values = [s.access_key, s.secret_key, s.credentials_json, s.rolesanywhere?.private_key, s.rolesanywhere?.certificate];
  return values.filter((v): v is string => typeof v === 'string' && v.length >= 4).sort((a, b) => b.length - a.length);
}

function scrub(message: string, secrets: readonly string[]): string {
  return secrets.reduce((m, secret) => m.split(secret).join('****'), message);
}

function outcome(r: AccessResult, secrets: readonly string[]): OperationOutcome {
  if (r.ok) return { status: 'ok' };
  if (r.skipped === true) return { status: 'skipped' };
  return { status: 'failed', kind: r.kind, message: renameSettings(scrub(r.message, secrets)) };
}

function toResult(a: BucketAccess, secrets: readonly string[]): BucketTestResult {
  const results = Object.fromEntries(ACCESS_OPERATIONS.map((op) => [op, outcome(a.results[op], secrets)])) as BucketTestResult['results'];
  return { bucket: a.bucket, ok: Object.values(results).every((r) => r.status !== 'failed'), results };
}

/** Runs the checks on each bucket in turn (probes are small; one at a time keeps the provider calm). */
async function checkBuckets(store: ObjectStore, buckets: readonly string[], provider: string, secrets: readonly string[]): Promise<BucketTestResult[]> {
  const out: BucketTestResult[] = [];
  for (const bucket of buckets) out.push(toResult(await checkBucketAccess(store, bucket, { multipart: provider === 'minio' }), secrets));
  return out;
}

function reply(name: string | null, provider: string, saved: boolean, buckets: BucketTestResult[]): ConnectionTestReply {
  return { name, provider, saved, ok: buckets.every((b) => b.ok), operations: ACCESS_OPERATIONS, buckets };
}

/** Tests a connection that serves now. */
async function testSaved(services: Services, name: string): Promise<ConnectionTestReply> {
  const view = services.connections.get(name);
  const live = services.links.list().find((c) => c.name === name);
  if (live === undefined) {
    if (view === undefined) throw new AppError('NotFound', `connection ${name} not found`, { entity: 'connection', id: name, field: 'name' });
    throw new AppError('InvalidInput', `connection ${name} is not serving: ${view.problem ?? 'its store cannot be built'}`, { field: 'name' });
  }
  return reply(name, live.provider, true, await checkBuckets(live.store, live.buckets, live.provider, secretsOf(view?.settings)));
}

/** The settings to test: the body's, or a stored API connection's patched with them. */
function settingsToTest(services: Services, name: string | undefined, raw: Record<string, unknown>): ConnectionSettings {
  const stored = name === undefined ? undefined : services.connections.get(name);
  if (stored === undefined || stored.source !== 'api' || stored.settings === null) return validateSettings(raw);
  return validateSettings(applyPatch(stored.settings, raw));
}

/** Tests settings not saved yet, with a store built for the test only. */
async function testUnsaved(services: Services, name: string | undefined, raw: Record<string, unknown>): Promise<ConnectionTestReply> {
  const settings = settingsToTest(services, name, raw);
  let store: ObjectStore;
  try {
    store = await defaultStoreFactory(TEST_RETRY)(name ?? 'connection-test', settings);
  } catch (err) {
    const field = err instanceof ConnectionSetupError ? (err.field ?? 'settings') : 'settings';
    throw invalidInput(field, `${field}: ${scrub(err instanceof Error ? err.message : String(err), secretsOf(settings))}`);
  }
  try {
    return reply(name ?? null, settings.provider, false, await checkBuckets(store, settings.buckets, settings.provider, secretsOf(settings)));
  } finally {
    await store.close();
  }
}

const test = defineMethod({
  name: 'remote-storage.connections.test',
  admin: true,
  input,
  handle: async ({ input: i, services }) =>
    (i.settings === undefined ? testSaved(services, i.name ?? '') : testUnsaved(services, i.name, i.settings)),
});

/** The connection test method. */
export const connectionTestMethods: ApiMethod[] = [test];
