/**
 * What differs between images and videos: the table, the project type they
 * belong in, and their own columns. Everything else is shared by the item repo.
 */
import type { Kysely } from 'kysely';
import type { CatalogDb, ItemTable } from './db-schema.ts';
import { toImage, toJson, toVideo } from './rows.ts';
import type { Image, ItemBase, NewImage, NewItem, NewVideo, ProjectType, Video } from './types.ts';

/**
 * Both item tables seen through their shared columns: the repo code is
 * written once and addresses `images` or `videos` by name.
 */
export type ItemDb = Record<'images' | 'videos', ItemTable>;

/** A kind's own column values for an insert. */
export type ExtraValues = Record<string, string | number | null>;

/** Describes one kind of item for the generic repo. */
export interface ItemKind<T extends ItemBase, N extends NewItem> {
  table: 'images' | 'videos';
  /** Singular, for messages. */
  label: string;
  /** Items of this kind only go in projects of this type. */
  projectType: ProjectType;
  /** Number of columns one insert row binds (to size multi-row inserts). */
  columnCount: number;
  extraValues(item: N): ExtraValues;
  /** PostgreSQL types of the kind's own non-text columns. */
  pgTypes: Readonly<Record<string, string>>;
  /** Row as selected (`selectAll`) → domain object. */
  toDomain(row: any): T;
}

/** Columns every item row binds on insert (see `item-writes.ts`). */
const SHARED_COLUMNS = 16;

export const IMAGE_KIND: ItemKind<Image, NewImage> = {
  table: 'images',
  label: 'image',
  projectType: 'images',
  columnCount: SHARED_COLUMNS + 2,
  extraValues: (item) => ({ width: item.width ?? null, height: item.height ?? null }),
  pgTypes: { width: 'integer', height: 'integer' },
  toDomain: toImage,
};

export const VIDEO_KIND: ItemKind<Video, NewVideo> = {
  table: 'videos',
  label: 'video',
  projectType: 'videos',
  columnCount: SHARED_COLUMNS + 2,
  extraValues: (item) => ({ file_meta: toJson(item.fileMeta), custom_data: '{}' }),
  pgTypes: {},
  toDomain: toVideo,
};

/** The catalog database addressed as {@link ItemDb}; the tables really have these columns. */
export function asItemDb(db: Kysely<CatalogDb>): Kysely<ItemDb> {
  return db as unknown as Kysely<ItemDb>;
}
