import { AppError, notFound } from '../errors.ts';
import type { Catalog, Dataset, Image, LinkUpdate, NewImage, NewVideo, Video } from '../catalog/types.ts';
import { parseLink } from '../links/link-url.ts';
import type { LinkRegistry } from '../links/registry.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/** Images or videos. */
export type ItemKind = 'image' | 'video';

/** One entry of a bulk add: stored bytes by hash, or a link. */
export interface AddEntry {
  name: string;
  hash?: string | undefined;
  link?: string | undefined;
  meta?: Record<string, unknown> | undefined;
}

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

  constructor(catalog: Catalog, store: ObjectStore, links: LinkRegistry) {
    this.#catalog = catalog;
    this.#store = store;
    this.#links = links;
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

  /** Adds images by hash or link, in request order. */
  async addImages(datasetId: number, entries: AddEntry[]): Promise<Image[]> {
    await this.datasetFor('image', datasetId);
    const rows = await Promise.all(entries.map((e, i) => this.#newImage(e, i)));
    return this.#catalog.images.addMany(datasetId, rows);
  }

  /** Adds videos by hash or link, in request order. */
  async addVideos(datasetId: number, entries: AddEntry[]): Promise<Video[]> {
    await this.datasetFor('video', datasetId);
    const rows = await Promise.all(entries.map((e, i) => this.#newVideo(e, i)));
    return this.#catalog.videos.addMany(datasetId, rows);
  }

  async #newImage(e: AddEntry, i: number): Promise<NewImage> {
    if (e.link !== undefined) return { name: e.name, link: this.#checkLink(e.link, `images.${i}.link`), meta: e.meta ?? {} };
    const blob = await this.#blob(e.hash, 'image', `images.${i}.hash`);
    const info = blob.info as { width?: number; height?: number };
    return {
      name: e.name, hash: blob.hash, bucket: blob.bucket, storageKey: blob.key, mime: blob.mime, size: blob.size,
      width: info.width ?? null, height: info.height ?? null, meta: e.meta ?? {},
    };
  }

  async #newVideo(e: AddEntry, i: number): Promise<NewVideo> {
    if (e.link !== undefined) return { name: e.name, link: this.#checkLink(e.link, `videos.${i}.link`), meta: e.meta ?? {} };
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

  #checkLink(link: string, field: string): string {
    parseLink(link, field);
    return link;
  }

  /** Validates every link's form, then repoints the items in one transaction. */
  async updateLinks(kind: ItemKind, updates: LinkUpdate[]): Promise<number> {
    const plural = `${kind}s` as const;
    updates.forEach((u, i) => parseLink(u.link, `${plural}.${i}.link`));
    const repo = kind === 'image' ? this.#catalog.images : this.#catalog.videos;
    const rows = await repo.updateLinks(updates);
    return rows.length;
  }

  /** Where an item's bytes are: our storage, or the store its link resolves to. */
  locate(item: { id: number; bucket: string | null; storageKey: string | null; link: string | null }): Located {
    if (item.bucket !== null && item.storageKey !== null) return { store: this.#store, bucket: item.bucket, key: item.storageKey };
    if (item.link === null) throw new AppError('NotFound', `item ${item.id} has neither stored bytes nor a link`, { id: item.id });
    const parsed = parseLink(item.link);
    if (parsed.kind === 'public') {
      throw new AppError('Unavailable', `item ${item.id} links to a public URL; fetching public links is not enabled on this server`, { id: item.id });
    }
    const r = this.#links.resolve(item.link);
    return { store: r.store, bucket: r.bucket, key: r.key };
  }
}
