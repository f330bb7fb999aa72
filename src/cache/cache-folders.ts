/** Folder chores of the disk caches: listing entry files, emptying. */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Names of the files under `data/<2 chars>/` (entry files are named by their key's hash). */
export async function listDataFiles(dataDir: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const sub of await readdir(dataDir, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    for (const f of await readdir(join(dataDir, sub.name))) out.add(f);
  }
  return out;
}

/** Removes everything inside `dir`, keeping `dir`. */
export async function clearFolder(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.map((n) => rm(join(dir, n), { recursive: true, force: true })));
}
