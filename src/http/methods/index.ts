import type { ApiMethod } from '../api-method.ts';
import { cacheMethods } from './cache.ts';
import { connectionMethods } from './connections.ts';
import { connectionTestMethods } from './connection-test.ts';
import { migrationPlanMethods } from './migration-plans.ts';
import { imageOnlyMethods, itemMethods } from './items.ts';
import { migrationMethods } from './migrations.ts';
import { projectMethods } from './projects.ts';
import { remoteStorageMethods } from './remote-storage.ts';
import { storageMethods } from './storage.ts';

/** Every method of `/public/api/v3/`. */
export const allMethods: ApiMethod[] = [
  ...projectMethods,
  ...itemMethods('image'),
  ...imageOnlyMethods,
  ...itemMethods('video'),
  ...remoteStorageMethods,
  ...connectionMethods,
  ...storageMethods,
  ...migrationMethods,
  ...cacheMethods,
  ...connectionTestMethods, ...migrationPlanMethods,
];
