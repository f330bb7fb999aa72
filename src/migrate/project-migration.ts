/**
 * The seed's `migrate_project`: every image or video of a project that is not
 * linked yet is streamed from Stowage's storage to the target bucket, its
 * remote size checked against the item's size, and only then re-pointed at
 * its new link, in batches of at most 1,000 through the same service call as
 * `images.update.links` / `videos.update.links`. An item that fails is
 * reported and left as it is; the others proceed. Nothing is deleted.
 *
 * Items are walked by id, a page of 1,000 at a time: each page is uploaded
 * (bounded concurrency), then re-pointed, then the caller records the last id
 * (the resume cursor). Re-running skips items already linked, and objects
 * already at the target with the right size (and MD5, on S3).
 */
import type { Catalog, Image, ItemBase, Video } from '../catalog/types.ts';
import { AppError, notFound } from '../errors.ts';
import { parseLink } from '../links/link-url.ts';
import type { ItemKind, ItemService } from '../services/items.ts';
import { isStorageError } from '../storage/errors.ts';
import type { ObjectInfo } from '../storage/object-store.ts';
import { describeError, isAborted, MigrationAborted, withBackoff, type BackoffOptions } from './backoff.ts';
import { etagOfSource, s3Etag, sameEtag } from './checksum.ts';
import { copyObject, type ObjectRef } from './copy-object.ts';
import { forEachLimit, Slots } from './pool.ts';
import { itemPlace, type ProjectTarget } from './project-target.ts';
import { datasetPaths, ProjectRunStats, type ItemFailure, type ProjectProgress } from './project-stats.ts';

/** Items read, uploaded and re-pointed per step (the seed's batch of 1,000). */
export const PROJECT_PAGE = 1000;
/** The seed's `set_remote_with_retries`: 4 attempts. */
const RELINK_ATTEMPTS = 4;

/** What a project migration uses. */
export interface ProjectMigrationDeps {
  catalog: Catalog;
  items: ItemService;
}

/** Options of {@link migrateProject}. */
export interface ProjectMigrationOptions {
  projectId: number;
  target: ProjectTarget;
  keepTree: boolean;
  concurrency: number;
  backoff: BackoffOptions;
  signal?: AbortSignal | undefined;
  /** Resume after this item id (0: from the start). */
  afterId: number;
  /** Counters of the run being resumed. */
  progress?: ProjectProgress | undefined;
  /** After each page: persist `cursor` (every item id ≤ it is handled). */
  onPage?: (cursor: number, progress: ProjectProgress) => Promise<void>;
  onFailure?: ((f: ItemFailure) => void) | undefined;
}

/** A running project migration. */
export interface ProjectMigration {
  stats: ProjectRunStats;
  done: Promise<ProjectProgress>;
}

/** The kind of a project's items, or 404 for an unknown project. */
export async function projectKind(catalog: Catalog, projectId: number): Promise<{ kind: ItemKind; itemsCount: number }> {
  const project = await catalog.projects.get(projectId);
  if (project === undefined) throw notFound('project', projectId);
  return { kind: project.type === 'images' ? 'image' : 'video', itemsCount: project.itemsCount };
}

/** Starts migrating a project. */
export function migrateProject(deps: ProjectMigrationDeps, o: ProjectMigrationOptions): ProjectMigration {
  const stats = new ProjectRunStats(o.progress);
  return { stats, done: new ProjectRun(deps, o, stats).run() };
}

class ProjectRun {
  readonly #d: ProjectMigrationDeps;
  readonly #o: ProjectMigrationOptions;
  readonly #stats: ProjectRunStats;
  #kind: ItemKind = 'image';
  #paths = new Map<number, string[]>();
  readonly #partSlots: Slots;

  constructor(deps: ProjectMigrationDeps, o: ProjectMigrationOptions, stats: ProjectRunStats) {
    this.#d = deps;
    this.#o = o;
    this.#stats = stats;
    this.#partSlots = new Slots(o.concurrency);
  }

  async run(): Promise<ProjectProgress> {
    const { kind, itemsCount } = await projectKind(this.#d.catalog, this.#o.projectId);
    this.#kind = kind;
    this.#stats.itemsTotal = itemsCount;
    if (this.#o.keepTree) this.#paths = await datasetPaths(this.#d.catalog, this.#o.projectId);
    const repo = kind === 'image' ? this.#d.catalog.images : this.#d.catalog.videos;
    for (let afterId = this.#o.afterId; ;) {
      const { rows } = await repo.list({ projectId: this.#o.projectId, limit: PROJECT_PAGE, afterId, sort: 'id', sortOrder: 'asc' });
      const last = rows.at(-1);
      if (last === undefined) break;
      await this.#page(rows as ItemBase[]);
      afterId = last.id;
      await this.#o.onPage?.(afterId, this.#stats.progress());
    }
    return this.#stats.progress();
  }

  async #page(rows: ItemBase[]): Promise<void> {
    const todo = rows.filter((r) => r.link === null);
    this.#stats.scanned += rows.length;
    this.#stats.candidates += todo.length;
    const ready: Array<{ item: ItemBase; link: string }> = [];
    await forEachLimit(todo, this.#o.concurrency, async (item) => {
      try {
        ready.push({ item, link: await this.#upload(item) });
      } catch (err) {
        if (err instanceof MigrationAborted || isAborted(this.#o.signal)) throw err;
        this.#fail(item, describeError(err));
      }
    });
    if (isAborted(this.#o.signal)) throw new MigrationAborted('cancelled');
    await this.#relink(ready.sort((a, b) => a.item.id - b.item.id));
  }

  #fail(item: ItemBase, error: string): void {
    const f = { id: item.id, name: item.name, error };
    this.#stats.fail(f);
    this.#o.onFailure?.(f);
  }

  /** Puts the item's bytes at its remote place (unless already there); returns its link. */
  async #upload(item: ItemBase): Promise<string> {
    const t = this.#o.target;
    const type = this.#kind === 'image' ? 'images' : 'videos';
    const place = itemPlace(t, type, this.#o.projectId, item, this.#o.keepTree, this.#paths.get(item.datasetId) ?? []);
    parseLink(place.link, 'link');
    if (item.bucket === null || item.storageKey === null) throw new AppError('NotFound', 'has neither stored bytes nor a link');
    const src = this.#d.items.locate(item);
    const dst: ObjectRef = { store: t.store, bucket: t.bucket, key: place.key };
    const local = await withBackoff(() => src.store.head(src.bucket, src.key), this.#o.backoff, this.#o.signal);
    if (local.size !== item.size) throw new AppError('Unprocessable', `stored object has ${local.size} bytes, the item says ${item.size}`);
    if (await this.#alreadyThere(src, dst, local)) {
      this.#stats.alreadyRemote += 1;
      return place.link;
    }
    const copied = await copyObject(src, dst, {
      size: local.size, contentType: item.mime ?? undefined, backoff: this.#o.backoff, signal: this.#o.signal, partSlots: this.#partSlots,
      onBytes: (n) => this.#stats.sending(n), onRetry: () => { this.#stats.retries += 1; },
    });
    this.#stats.uploadedOne(copied.size);
    // The seed's check: the remote object's size against the item's.
    if (copied.size !== item.size) throw new AppError('Unprocessable', `remote object has ${copied.size} bytes, the item ${item.size}`);
    return place.link;
  }

  /** The target already holds these bytes: same size, and the same MD5 where the store says it. */
  async #alreadyThere(src: ObjectRef, dst: ObjectRef, local: ObjectInfo): Promise<boolean> {
    const remote = await withBackoff(() => dst.store.head(dst.bucket, dst.key), this.#o.backoff, this.#o.signal).catch((err: unknown) => {
      if (isStorageError(err, 'NotFound')) return undefined;
      throw err;
    });
    if (remote === undefined || remote.size !== local.size) return false;
    const tag = s3Etag(dst.store, remote.etag);
    if (tag === undefined) return true;
    const mine = await etagOfSource(src.store, src.bucket, src.key, local.size, tag, this.#o.signal);
    return mine === undefined || sameEtag(mine, tag);
  }

  /** Re-points the uploaded items, as `*.update.links` does; one by one when a batch fails. */
  async #relink(ready: Array<{ item: ItemBase; link: string }>): Promise<void> {
    const current = await this.#current(ready.map((r) => r.item.id));
    // An item removed or re-pointed by someone meanwhile keeps what it has now.
    const still = ready.filter((r) => {
      const now = current.get(r.item.id);
      return now !== undefined && now.link === null && now.storageKey === r.item.storageKey;
    });
    this.#stats.changedMeanwhile += ready.length - still.length;
    if (still.length === 0) return;
    const updates = still.map((r) => ({ id: r.item.id, link: r.link }));
    const backoff = { ...this.#o.backoff, attempts: Math.min(RELINK_ATTEMPTS, this.#o.backoff.attempts) };
    try {
      await withBackoff(() => this.#d.items.updateLinks(this.#kind, updates, { forceMetadataForLinks: false }), backoff, this.#o.signal);
      this.#stats.relinked += updates.length;
      return;
    } catch (err) {
      if (err instanceof MigrationAborted) throw err;
    }
    for (const r of still) {
      try {
        await withBackoff(() => this.#d.items.updateLinks(this.#kind, [{ id: r.item.id, link: r.link }], { forceMetadataForLinks: false }), backoff, this.#o.signal);
        this.#stats.relinked += 1;
      } catch (err) {
        if (err instanceof MigrationAborted) throw err;
        this.#fail(r.item, `uploaded, but not re-pointed: ${describeError(err)}`);
      }
    }
  }

  async #current(ids: number[]): Promise<Map<number, Image | Video>> {
    const repo = this.#kind === 'image' ? this.#d.catalog.images : this.#d.catalog.videos;
    const rows: Array<Image | Video> = await repo.getMany(ids);
    return new Map(rows.map((r) => [r.id, r]));
  }
}
