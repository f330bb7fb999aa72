/** Shared helpers of the catalog tests. */
import assert from 'node:assert/strict';
import { AppError, type AppErrorKind } from '../../src/errors.ts';
import type { Catalog, Dataset, NewImage, Project, ProjectType } from '../../src/catalog/types.ts';
import { DEFAULT_WORKSPACE_ID } from '../../src/catalog/types.ts';

/** Awaits a rejection with an AppError of `kind`; returns it for further checks. */
export async function rejectsWith(promise: Promise<unknown>, kind: AppErrorKind): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    return err;
  }
  assert.fail(`expected an AppError of kind ${kind}, but it resolved`);
}

/** A project in the default workspace with one top-level dataset. */
export async function projectWithDataset(
  catalog: Catalog,
  type: ProjectType = 'images',
  name = 'proj',
): Promise<{ project: Project; dataset: Dataset }> {
  const project = await catalog.projects.create({ name, type, workspaceId: DEFAULT_WORKSPACE_ID });
  const dataset = await catalog.datasets.create({ projectId: project.id, name: 'ds' });
  return { project, dataset };
}

/** `count` stored images named `<prefix>00000.jpg`... with sizes 1, 2, 3... */
export function images(count: number, prefix = 'img_', start = 0): NewImage[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${prefix}${String(start + i).padStart(5, '0')}.jpg`,
    hash: `hash-${prefix}${start + i}`,
    bucket: 'b',
    storageKey: `k/${prefix}${start + i}`,
    mime: 'image/jpeg',
    size: start + i + 1,
    width: 64,
    height: 48,
  }));
}
