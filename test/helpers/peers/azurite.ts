/**
 * Azurite, Microsoft's Azure Blob emulator, started on a free loopback port
 * with a throw-away workspace, as the real peer of the Azure provider's tests.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  generateAccountSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { killOnExit, stopProcess, waitForLine } from './process.ts';

/** The emulator's only account, with its well-known (public) key. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** A running Azurite blob service. */
export interface AzuritePeer {
  /** Account URL, e.g. `http://127.0.0.1:PORT/devstoreaccount1`. */
  readonly endpoint: string;
  readonly accountName: string;
  readonly accountKey: string;
  /** Stops the process and removes its workspace. */
  stop(): Promise<void>;
}

// Generous: a cold start on a loaded CI machine; it normally answers in < 1 s.
const START_TIMEOUT_MS = 30_000;
const LISTENING = /successfully listens on https?:\/\/[^:\s]+:(\d+)/u;

function azuriteMain(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('azurite/package.json');
  } catch {
    throw new Error('Azurite is not installed (it is a devDependency of Stowage): run "npm install" in the project root');
  }
  const main = join(dirname(pkg), 'dist', 'src', 'blob', 'main.js');
  if (!existsSync(main)) throw new Error(`Azurite is installed but ${main} is missing: run "npm install" again`);
  return main;
}

/**
 * Starts Azurite's blob service on 127.0.0.1 with a port chosen by the OS and
 * resolves once it listens. Runs under the Node that runs the tests (Node 24),
 * never the system one. Fails (never skips) with a message naming Azurite.
 */
export async function startAzurite(): Promise<AzuritePeer> {
  const main = azuriteMain();
  const location = await mkdtemp(join(tmpdir(), 'stowage-azurite-'));
  const args = [main, '--blobHost', '127.0.0.1', '--blobPort', '0', '--location', location, '--disableTelemetry', '--loose', '--skipApiVersionCheck', '--silent'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let port: number;
  try {
    const ready = { peer: 'Azurite (Azure Blob emulator)', pattern: LISTENING, says: 'listening', timeoutMs: START_TIMEOUT_MS };
    port = Number((await waitForLine(child, ready))[1]);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(location, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`,
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
    async stop() {
      await stopProcess(child);
      await rm(location, { recursive: true, force: true });
    },
  };
}

/**
 * An account SAS token for the emulator's blob service (`?sv=…&sig=…`, as an
 * operator would paste it) with the given permissions, e.g. `rl` (read-only)
 * or `rwdlacup` (everything), valid for a day.
 */
export function accountSas(peer: Pick<AzuritePeer, 'accountName' | 'accountKey'>, permissions: string): string {
  const sas = generateAccountSASQueryParameters(
    {
      expiresOn: new Date(Date.now() + 24 * 3600_000),
      permissions: AccountSASPermissions.parse(permissions),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      services: AccountSASServices.parse('b').toString(),
    },
    new StorageSharedKeyCredential(peer.accountName, peer.accountKey),
  );
  return `?${sas.toString()}`;
}
