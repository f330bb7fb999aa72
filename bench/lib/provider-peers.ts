/**
 * The cloud peers of the providers benchmark (radosgw, Azurite, the GCS
 * emulator, from test/helpers/peers/), each with the environment that makes
 * it Stowage's primary storage and an SDK anchor against the same peer.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startAzurite } from '../../test/helpers/peers/azurite.ts';
import { startGcsEmulator } from '../../test/helpers/peers/gcs-emulator.ts';
import { startRadosgw } from '../../test/helpers/peers/radosgw.ts';
import { azureAnchor, gcsAnchor, s3Anchor, type SdkAnchor } from './provider-sdk.ts';

export const PROVIDERS = ['s3', 'azure', 'gcs'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export const PROVIDER_LABELS: Record<ProviderName, string> = {
  s3: 'S3 (radosgw, memstore)',
  azure: 'Azure Blob (Azurite)',
  gcs: 'GCS (firebase-tools emulator)',
};

export interface ProviderPeer {
  name: ProviderName;
  label: string;
  /** STORAGE_* (and STORAGE_EMULATOR_HOST) for the Stowage child. */
  stowageEnv: Record<string, string>;
  /** The SDK used directly against the same peer, on its own bucket. */
  anchor: SdkAnchor;
  /** Closes the anchor and stops the peer. */
  stop(): Promise<void>;
}

export interface PeerOptions {
  /** STORAGE_BUCKET_PREFIX of Stowage; the anchor's bucket is `<prefix>-sdk`. */
  prefix: string;
  /** Scratch folder (the GCS service-account file goes here). */
  dir: string;
  /** radosgw's RAM for objects. */
  memstoreBytes: number;
}

function common(prefix: string): Record<string, string> {
  return { STORAGE_BUCKET_PREFIX: prefix, STORAGE_CREATE_BUCKETS: 'true' };
}

async function s3Peer(o: PeerOptions): Promise<ProviderPeer> {
  const rgw = await startRadosgw({ memstoreBytes: o.memstoreBytes });
  const anchor = s3Anchor({ endpoint: rgw.endpoint, accessKey: rgw.accessKey, secretKey: rgw.secretKey, bucket: `${o.prefix}-sdk` });
  return {
    name: 's3', label: PROVIDER_LABELS.s3, anchor,
    stowageEnv: { ...common(o.prefix), STORAGE_PROVIDER: 'minio', STORAGE_ENDPOINT: rgw.endpoint, STORAGE_ACCESS_KEY: rgw.accessKey, STORAGE_SECRET_KEY: rgw.secretKey },
    async stop() {
      await anchor.close();
      await rgw.stop();
    },
  };
}

async function azurePeer(o: PeerOptions): Promise<ProviderPeer> {
  const az = await startAzurite();
  const anchor = azureAnchor({ endpoint: az.endpoint, accountName: az.accountName, accountKey: az.accountKey, container: `${o.prefix}-sdk` });
  return {
    name: 'azure', label: PROVIDER_LABELS.azure, anchor,
    stowageEnv: { ...common(o.prefix), STORAGE_PROVIDER: 'azure', STORAGE_ENDPOINT: az.endpoint, STORAGE_ACCESS_KEY: az.accountName, STORAGE_SECRET_KEY: az.accountKey },
    async stop() {
      await anchor.close();
      await az.stop();
    },
  };
}

/** A service-account file Stowage validates at start; the emulator checks no credentials. */
async function serviceAccountFile(dir: string): Promise<string> {
  const path = join(dir, 'gcs-service-account.json');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(path, JSON.stringify({
    type: 'service_account', project_id: 'demo-test', client_email: 'stowage-bench@demo-test.iam.gserviceaccount.com',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
  }), { mode: 0o600 });
  return path;
}

async function gcsPeer(o: PeerOptions): Promise<ProviderPeer> {
  const emu = await startGcsEmulator();
  // The SDK in this process must see the emulator too (Google's convention); undone in stop().
  const before = process.env['STORAGE_EMULATOR_HOST'];
  process.env['STORAGE_EMULATOR_HOST'] = emu.endpoint;
  const credentials = await serviceAccountFile(o.dir);
  const anchor = gcsAnchor({ endpoint: emu.endpoint, bucket: `${o.prefix}-sdk` });
  return {
    name: 'gcs', label: PROVIDER_LABELS.gcs, anchor,
    stowageEnv: {
      ...common(o.prefix), STORAGE_PROVIDER: 'google', STORAGE_ENDPOINT: emu.endpoint, STORAGE_CREDENTIALS_PATH: credentials,
      STORAGE_EMULATOR_HOST: emu.endpoint,
    },
    async stop() {
      await anchor.close();
      if (before === undefined) delete process.env['STORAGE_EMULATOR_HOST'];
      else process.env['STORAGE_EMULATOR_HOST'] = before;
      await emu.stop();
    },
  };
}

export function startPeer(name: ProviderName, o: PeerOptions): Promise<ProviderPeer> {
  switch (name) {
    case 's3': return s3Peer(o);
    case 'azure': return azurePeer(o);
    case 'gcs': return gcsPeer(o);
  }
}
