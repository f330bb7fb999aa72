import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { isStorageError } from '../../storage/errors.ts';
import { defineMethod, type ApiMethod } from '../api-method.ts';
import { sendObject } from '../send-object.ts';
import { listRemote, parseListPath } from '../../links/remote-list.ts';
import { wireBool } from '../wire-types.ts';

/** Most items one `remote-storage.list` call returns (the SDK's default and maximum). */
export const MAX_LIST_LIMIT = 10_000;

const pathInput = z.object({ path: z.string().min(1).max(4096), groupId: z.coerce.number().optional() });

/**
 * `remote-storage.upload`: pairs of a `path` field (the destination link) and a
 * `file` part, streamed straight to the destination store (chunked bodies of
 * unknown length welcome; nothing is held in memory).
 */
const upload = defineMethod({
  name: 'remote-storage.upload',
  multipart: true,
  handle: async ({ services, req }) => {
    if (!req.isMultipart()) throw new AppError('UnsupportedMedia', 'expected a multipart/form-data body: path field, then file part');
    const files: Array<{ path: string; size: number; etag: string }> = [];
    let dest: string | undefined;
    for await (const part of req.parts()) {
      if (part.type === 'field') {
        if (part.fieldname === 'path') dest = String(part.value);
        continue;
      }
      if (dest === undefined) {
        part.file.resume();
        throw new AppError('InvalidInput', `path: each file part must follow a "path" field with its destination`, { field: 'path' });
      }
      const target = services.links.resolve(dest, 'path');
      const info = await target.store.put(target.bucket, target.key, part.file, part.mimetype ? { contentType: part.mimetype } : {});
      files.push({ path: dest, size: info.size, etag: info.etag });
      dest = undefined;
    }
    if (files.length === 0) throw new AppError('InvalidInput', 'the multipart body has no file part', { field: 'file' });
    return { success: true, files };
  },
});

const exists = defineMethod({
  name: 'remote-storage.exists',
  verbs: ['GET', 'POST'],
  input: pathInput,
  handle: async ({ input, services }) => {
    const r = services.links.resolve(input.path, 'path');
    return { exists: await r.store.exists(r.bucket, r.key) };
  },
});

const stat = defineMethod({
  name: 'remote-storage.stat',
  verbs: ['GET', 'POST'],
  input: pathInput,
  handle: async ({ input, services }) => {
    const r = services.links.resolve(input.path, 'path');
    try {
      const info = await r.store.head(r.bucket, r.key);
      return { size: info.size, lastModified: info.lastModified.toISOString(), etag: info.etag, contentType: info.contentType ?? null };
    } catch (err) {
      if (isStorageError(err, 'NotFound')) throw new AppError('NotFound', `${input.path} does not exist`, { path: input.path });
      throw err;
    }
  },
});

const download = defineMethod({
  name: 'remote-storage.download',
  verbs: ['GET', 'POST'],
  input: z.object({ link: z.string().min(1).max(4096) }),
  handle: async ({ input, services, req, reply }) => {
    const r = services.links.resolve(input.link, 'link');
    return sendObject(req, reply, { store: r.store, bucket: r.bucket, key: r.key, filename: r.key.split('/').pop() ?? r.key });
  },
});

/**
 * `remote-storage.list` (GET, query; api-compat §7): a bare JSON array of
 * files and folders under `path`, paged from the store with `startAfter`.
 */
const list = defineMethod({
  name: 'remote-storage.list',
  verbs: ['GET', 'POST'],
  input: z.object({
    path: z.string().min(1).max(4096),
    recursive: wireBool.default(true),
    files: wireBool.default(true),
    folders: wireBool.default(true),
    limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(MAX_LIST_LIMIT),
    startAfter: z.string().max(4096).default(''),
    groupId: z.coerce.number().optional(),
  }),
  handle: async ({ input, services }) => {
    const at = parseListPath(input.path);
    // Resolving a placeholder key checks the scheme and bucket like any link (400 naming the bucket).
    const { store } = services.links.resolve(`${at.scheme}://${at.bucket}/_`, 'path');
    return listRemote(store, at, input);
  },
});

/** Reads and writes of linked remote storage. */
export const remoteStorageMethods: ApiMethod[] = [upload, exists, stat, download, list];
