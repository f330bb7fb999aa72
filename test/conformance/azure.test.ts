import { after, before } from 'node:test';
import { createAzureStore } from '../../src/storage/providers/azure/index.ts';
import { accountSas, startAzurite, type AzuritePeer } from '../helpers/peers/azurite.ts';
import { describeObjectStoreConformance, twoBuckets } from './object-store-suite.ts';

// One emulator for both runs of the suite; each run gets its own containers.
let peer: AzuritePeer | undefined;
before(async () => {
  peer = await startAzurite();
});
after(async () => {
  await peer?.stop();
});

function running(): AzuritePeer {
  if (peer === undefined) throw new Error('Azurite (the Azure Blob emulator) is not running: see the error of the first hook');
  return peer;
}

for (const auth of ['shared key', 'SAS token'] as const) {
  describeObjectStoreConformance(`Azure Blob on Azurite (${auth})`, async () => {
    const p = running();
    const secret = auth === 'shared key' ? p.accountKey : accountSas(p, 'rwdlacup');
    const store = createAzureStore({ endpoint: p.endpoint, accountName: p.accountName, secret });
    return twoBuckets(store, `conformance-${auth === 'shared key' ? 'key' : 'sas'}`);
  });
}
