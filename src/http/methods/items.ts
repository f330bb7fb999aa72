import { z } from 'zod';
import { AppError, notFound } from '../../errors.ts';
import type { Image, Video } from '../../catalog/types.ts';
import type { ItemKind } from '../../services/items.ts';
import type { Services } from '../../services/services.ts';
import { defineMethod, type ApiMethod } from '../api-method.ts';
import { listShape, pageReply, toListQuery } from '../pagination.ts';
import { sendObject } from '../send-object.ts';
import { imageInfo, videoInfo } from '../wire.ts';
import { hash, id, jsonObject, wireBool } from '../wire-types.ts';
import { readUploadParts } from '../multipart.ts';
import { multipartBody } from '../multipart-reply.ts';
import { linksImportMethod, linksImportStatusMethod } from './links-import.ts';

/** Most entities one `*.update.links` call accepts. */
export const MAX_LINK_UPDATES = 1000;
/** Most entities one `*.bulk.add` call accepts. */
export const MAX_BULK_ADD = 1000;

type Item = Image | Video;

function repo(services: Services, kind: ItemKind) {
  return kind === 'image' ? services.catalog.images : services.catalog.videos;
}

function infoOf(kind: ItemKind, baseUrl: string): (row: Item) => Record<string, unknown> {
  return kind === 'image'
    ? (row) => imageInfo(row as Image, baseUrl)
    : (row) => videoInfo(row as Video, baseUrl);
}

async function getItem(services: Services, kind: ItemKind, itemId: number): Promise<Item> {
  const row = await repo(services, kind).get(itemId);
  if (row === undefined) throw notFound(kind, itemId);
  return row;
}

const addEntry = z.object({
  title: z.string().trim().min(1).max(255).optional(),
  name: z.string().trim().min(1).max(255).optional(),
  hash: hash.optional(),
  link: z.string().min(1).max(4096).optional(),
  meta: jsonObject.optional(),
}).refine((e) => e.title !== undefined || e.name !== undefined, { message: 'title is required', path: ['title'] })
  .refine((e) => (e.hash === undefined) !== (e.link === undefined), { message: 'exactly one of hash or link is required', path: ['hash'] });

/** The methods images and videos share: list, info, bulk.add, download, update.links, bulk.upload. */
export function itemMethods(kind: ItemKind): ApiMethod[] {
  const plural = `${kind}s` as const;
  const list = defineMethod({
    name: `${plural}.list`,
    input: z.object({ ...listShape, datasetId: id.nullish(), projectId: id.nullish(), recursive: wireBool.default(false) })
      .refine((v) => v.datasetId != null || v.projectId != null, { message: 'datasetId or projectId is required', path: ['datasetId'] }),
    handle: async ({ input, services, baseUrl }) => {
      if (input.datasetId != null) await services.items.datasetFor(kind, input.datasetId);
      else if (input.projectId != null && (await services.catalog.projects.get(input.projectId)) === undefined) throw notFound('project', input.projectId);
      const q = toListQuery(input);
      const where = input.datasetId != null ? { datasetId: input.datasetId, recursive: input.recursive } : { projectId: input.projectId ?? 0 };
      const result = await repo(services, kind).list({ ...q, ...where });
      return pageReply(input, q, result, infoOf(kind, baseUrl));
    },
  });
  const info = defineMethod({
    name: `${plural}.info`,
    input: z.object({ id }),
    handle: async ({ input, services, baseUrl }) => infoOf(kind, baseUrl)(await getItem(services, kind, input.id)),
  });
  const bulkAdd = defineMethod({
    name: `${plural}.bulk.add`,
    input: z.object({
      datasetId: id,
      [plural]: z.array(addEntry).min(1).max(MAX_BULK_ADD),
      forceMetadataForLinks: wireBool.default(true),
    }),
    handle: async ({ input, services, baseUrl }) => {
      // The list's key is the plural kind (`images`/`videos`), computed, so zod cannot type it.
      const body = input as unknown as { datasetId: number; forceMetadataForLinks: boolean } & Record<string, Array<z.output<typeof addEntry>>>;
      const entries = (body[plural] ?? []).map((e) => ({ ...e, name: e.title ?? e.name ?? '' }));
      const opts = { forceMetadataForLinks: body.forceMetadataForLinks };
      const rows = kind === 'image'
        ? await services.items.addImages(body.datasetId, entries, opts)
        : await services.items.addVideos(body.datasetId, entries, opts);
      return rows.map(infoOf(kind, baseUrl));
    },
  });
  const download = defineMethod({
    name: `${plural}.download`,
    verbs: ['GET', 'POST'],
    input: z.object({ id }),
    handle: async ({ input, services, req, reply }) => {
      const item = await getItem(services, kind, input.id);
      const at = services.items.locate(item);
      // Only our own store's content-addressed keys may be kept in memory.
      const hot = at.store === services.store ? services.hot : undefined;
      return sendObject(req, reply, { ...at, checksum: item.hash, contentType: item.mime, filename: item.name, hot });
    },
  });
  const updateLinks = defineMethod({
    name: `${plural}.update.links`,
    input: z.object({
      [plural]: z.array(z.object({ id, link: z.string().min(1).max(4096) })).min(1).max(MAX_LINK_UPDATES),
      // Accepted for the wire; stored bytes are never deleted by a link update (`stowage gc` reclaims them).
      clearLocalDataSource: wireBool.default(true),
      forceMetadataForLinks: wireBool.default(true),
    }),
    handle: async ({ input, services }) => {
      const updates = input[plural] as Array<{ id: number; link: string }>;
      const forceMetadataForLinks = (input as { forceMetadataForLinks: boolean }).forceMetadataForLinks;
      const count = await services.items.updateLinks(kind, updates, { forceMetadataForLinks });
      return { success: true, count };
    },
  });
  const bulkUpload = defineMethod({
    name: `${plural}.bulk.upload`,
    multipart: true,
    handle: async ({ services, req }) => readUploadParts(req, (file) => services.ingest.receive(file, kind)),
  });
  return [list, info, bulkAdd, download, updateLinks, bulkUpload, linksImportMethod(kind), linksImportStatusMethod(kind)];
}

/** Image-only methods: the hash check, batch download and removal. */
export const imageOnlyMethods: ApiMethod[] = [
  defineMethod({
    name: 'images.internal.hashes.list',
    input: z.array(hash).max(10_000),
    handle: async ({ input, services }) => services.catalog.blobs.existing(input),
  }),
  defineMethod({
    name: 'images.bulk.remove',
    input: z.object({ imageIds: z.array(id).min(1).max(MAX_BULK_ADD) }),
    handle: async ({ input, services }) => ({ success: true, count: await services.catalog.images.removeMany(input.imageIds) }),
  }),
  defineMethod({
    name: 'images.bulk.download',
    input: z.object({ datasetId: id.optional(), imageIds: z.array(id).min(1).max(MAX_BULK_ADD) }),
    handle: async ({ input, services, reply }) => {
      const rows = await services.catalog.images.getMany(input.imageIds);
      const byId = new Map(rows.map((r) => [r.id, r]));
      const missing = input.imageIds.filter((i) => !byId.has(i) || (input.datasetId !== undefined && byId.get(i)?.datasetId !== input.datasetId));
      if (missing.length > 0) throw new AppError('NotFound', `images not found: ${missing.join(', ')}`, { ids: missing });
      const { boundary, body } = multipartBody(input.imageIds.map((i) => byId.get(i) as Image), services);
      return reply.type(`multipart/mixed; boundary=${boundary}`).send(body);
    },
  }),
];
