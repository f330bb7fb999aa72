import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError, notFound } from '../errors.ts';
import type { Catalog, Dataset, Image, LinkedItemMeta, LinkUpdate, NewImage, NewVideo, Video } from '../catalog/types.ts';
import { parseLink } from '../links/link-url.ts';
import { publicLinkLocation } from '../links/public-location.ts';
import type { LinkRegistry } from '../links/registry.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { LinkMetadataReader } from './link-metadata.ts';
import { mapLimit } from './map-limit.ts';

/** Images or videos. */
export type ItemKind = 'image' | 'video';

/** One entry of a bulk add: stored bytes by hash, or a link. */
export interface AddEntry {
  name: string;
  hash?: string | undefined;
  link?: string | undefined;
  meta?: Record<string, unknown> | undefined;
}

/** How links are registered. */
export interface LinkOptions {
  /** Read mime, size and dimensions from each linked object (default true, as the SDK sends). */
  forceMetadataForLinks?: boolean | undefined;
}

/** Options of {@link ItemService}. */
export interface ItemServiceOptions {
  /** Scratch folder for video header probes (default: the OS temp folder). */
  tmpDir?: string;
  /** Read-only store of public http(s) links; without it such links are registered but not served. */
  publicLinks?: ObjectStore | undefined;
}

/** Linked objects whose headers are read at once per call (each is one or two small ranged gets). */
export const LINK_METADATA_CONCURRENCY = 16;

/** Where to read an item's bytes. */
export interface Located {
  store: ObjectStore;
  bucket: string;
  key: string;
}

/** Rules shared by images and videos: datasets, hashes, links. */
export class ItemService {
  readonly #catalog: Catalog;
  readonly #store: ObjectStore;
  readonly #links: LinkRegistry;
  readonly #publicLinks: ObjectStore | undefined;
  readonly #linkMeta: LinkMetadataReader;

  constructor(catalog: Catalog, store: ObjectStore, links: LinkRegistry, options: ItemServiceOptions = {}) {
    this.#catalog = catalog;
    this.#store = store;
    this.#links = links;
    this.#publicLinks = options.publicLinks;
    this.#linkMeta = new LinkMetadataReader({ tmpDir: options.tmpDir ?? join(tmpdir(), 'stowage-links') });
  }

  /** The dataset, checked to belong to a project of the right type. */
  async datasetFor(kind: ItemKind, datasetId: number): Promise<Dataset> {
    const ds = await this.#catalog.datasets.get(datasetId);
    if (ds === undefined) throw notFound('dataset', datasetId);
    const project = await this.#catalog.projects.get(ds.projectId);
    if (project !== undefined && project.type !== `${kind}s`) {
      throw new AppError('InvalidInput', `dataset ${datasetId} belongs to a ${project.type} project, not a ${kind}s project`, { field: 'datasetId' });
    }
    return ds;
  }

  /**
   * Adds images by hash or link, in request order. Links are resolved and
   * (with `forceMetadataForLinks`) described from their objects first; any
   * failure adds nothing.
   */
  async addImages(datasetId: number, entries: AddEntry[], opts: LinkOptions = {}): Promise<Image[]> {
    await this.datasetFor('image', datasetId);
    const rows = await mapLimit(entries, LINK_METADATA_CONCURRENCY, (e, i) => this.#newImage(e, i, opts));
    return this.#catalog.images.addMany(datasetId, rows);
  }

  /** Adds videos by hash or link, in request order (links as for {@link addImages}). */
  async addVideos(datasetId: number, entries: AddEntry[], opts: LinkOptions = {}): Promise<Video[]> {
    await this.datasetFor('video', datasetId);
    const rows = await mapLimit(entries, LINK_METADATA_CONCURRENCY, (e, i) => this.#newVideo(e, i, opts));
    return this.#catalog.videos.addMany(datasetId, rows);
  }

  async #newImage(e: AddEntry, i: number, opts: LinkOptions): Promise<NewImage> {
    if (e.link !== undefined) {
      const found = await this.describeLink('image', e.link, `images.${i}.link`, opts);
      return { name: e.name, link: e.link, meta: e.meta ?? {}, ...found };
    }
    const blob = await this.#blob(e.hash, 'image', `images.${i}.hash`);
    const info = blob.info as { width?: number; height?: number };
    return {
      name: e.name, hash: blob.hash, bucket: blob.bucket, storageKey: blob.key, mime: blob.mime, size: blob.size,
      width: info.width ?? null, height: info.height ?? null, meta: e.meta ?? {},
    };
  }

  async #newVideo(e: AddEntry, i: number, opts: LinkOptions): Promise<NewVideo> {
    if (e.link !== undefined) {
      const found = await this.describeLink('video', e.link, `videos.${i}.link`, opts);
      return { name: e.name, link: e.link, meta: e.meta ?? {}, ...found };
    }
    const blob = await this.#blob(e.hash, 'video', `videos.${i}.hash`);
    return {
      name: e.name, hash: blob.hash, bucket: blob.bucket, storageKey: blob.key, mime: blob.mime, size: blob.size,
      fileMeta: blob.info, meta: e.meta ?? {},
    };
  }

  async #blob(hash: string | undefined, kind: ItemKind, field: string) {
    if (hash === undefined) throw new AppError('InvalidInput', `${field}: either hash or link is required`, { field });
    const blob = await this.#catalog.blobs.get(hash);
    if (blob === undefined) {
      throw new AppError('InvalidInput', `${field}: no stored file has hash ${hash}: upload it first (images.bulk.upload)`, { field, hash });
    }
    if (blob.kind !== kind) throw new AppError('InvalidInput', `${field}: hash ${hash} is a ${blob.kind}, not a ${kind}`, { field });
    return blob;
  }

  /**
   * Checks a link (form; a bucket link must resolve to a connection) and,
   * with `forceMetadataForLinks` (default), reads its object's header:
   * mime, size and dimensions (images) or fileMeta (videos). Returns the
   * catalog fields found (none when metadata is off, or for a public link
   * while this server cannot fetch those).
   * @throws AppError naming `field` and the link: unknown scheme or bucket,
   *   missing object (400), not an image/video (422).
   */
  async describeLink(kind: ItemKind, link: string, field: string, opts: LinkOptions = {}): Promise<LinkedItemMeta | undefined> {
    const at = this.#locateLink(link, field);
    if (at === undefined || opts.forceMetadataForLinks === false) return undefined;
    if (kind === 'image') {
      const m = await this.#linkMeta.image(at, { link, field });
      return { mime: m.mime, size: m.size, width: m.width, height: m.height };
    }
    const m = await this.#linkMeta.video(at, { link, field });
    return { mime: m.mime, size: m.size, fileMeta: m.fileMeta };
  }

  /** Where a link's bytes are; undefined for a public link this server does not fetch (yet). */
  #locateLink(link: string, field: string): Located | undefined {
    const parsed = parseLink(link, field);
    if (parsed.kind === 'bucket') {
      const r = this.#links.resolve(link, field);
      return { store: r.store, bucket: r.bucket, key: r.key };
    }
    try {
      return this.locate({ id: 0, bucket: null, storageKey: null, link });
    } catch (err) {
      // Registering a public link stays possible without metadata until such links are served.
      if (err instanceof AppError && err.kind === 'Unavailable') return undefined;
      throw err;
    }
  }

  /**
   * Resolves every link (and reads its metadata, as {@link describeLink}),
   * then repoints the items in one transaction; any failure changes nothing.
   * The items' stored bytes are never deleted here (see `stowage gc`).
   */
  async updateLinks(kind: ItemKind, updates: LinkUpdate[], opts: LinkOptions = {}): Promise<number> {
    const plural = `${kind}s` as const;
    const resolved = await mapLimit(updates, LINK_METADATA_CONCURRENCY, async (u, i) => {
      const metadata = await this.describeLink(kind, u.link, `${plural}.${i}.link`, opts);
      return metadata === undefined ? { id: u.id, link: u.link } : { id: u.id, link: u.link, metadata };
    });
    const repo = kind === 'image' ? this.#catalog.images : this.#catalog.videos;
    const rows = await repo.updateLinks(resolved);
    return rows.length;
  }

  /** Where an item's bytes are: our storage, or the store its link resolves to. */
  locate(item: { id: number; bucket: string | null; storageKey: string | null; link: string | null }): Located {
    if (item.bucket !== null && item.storageKey !== null) return { store: this.#store, bucket: item.bucket, key: item.storageKey };
    if (item.link === null) throw new AppError('NotFound', `item ${item.id} has neither stored bytes nor a link`, { id: item.id });
    const parsed = parseLink(item.link);
    if (parsed.kind === 'public' && this.#publicLinks !== undefined) {
      return { store: this.#publicLinks, ...publicLinkLocation(parsed.url) };
    }
    if (parsed.kind === 'public') {
      throw new AppError('Unavailable', `item ${item.id} links to a public URL; fetching public links is not enabled on this server`, { id: item.id });
    }
    const r = this.#links.resolve(item.link);
    return { store: r.store, bucket: r.bucket, key: r.key };
  }
}
