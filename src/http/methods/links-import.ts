import type { Readable } from 'node:stream';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { isLinkImportOf, startLinkImportJob } from '../../migrate/link-import-job.ts';
import { LinkImporter, readLines } from '../../services/link-import.ts';
import type { ItemKind } from '../../services/items.ts';
import type { Services } from '../../services/services.ts';
import { defineMethod, type ApiMethod } from '../api-method.ts';
import { id, wireBool } from '../wire-types.ts';

/** Form fields that may precede the file part (or come in the query string). */
interface ImportFields {
  datasetId?: number;
  forceMetadataForLinks: boolean;
  background: boolean;
}

function readBool(fields: ImportFields, name: 'forceMetadataForLinks' | 'background', value: unknown): void {
  const parsed = wireBool.safeParse(value);
  if (!parsed.success) throw new AppError('InvalidInput', `${name}: expected true or false`, { field: name });
  fields[name] = parsed.data;
}

function readField(fields: ImportFields, name: string, value: unknown): void {
  if (name === 'datasetId') {
    const parsed = id.safeParse(value);
    if (!parsed.success) throw new AppError('InvalidInput', `datasetId: expected a numeric id, got "${String(value).slice(0, 40)}"`, { field: 'datasetId' });
    fields.datasetId = parsed.data;
  } else if (name === 'forceMetadataForLinks' || name === 'background') {
    readBool(fields, name, value);
  }
}

/** Imports now (the reply is the report), or stores the list and starts a background job (the reply is the job). */
function importFile(services: Services, kind: ItemKind, fields: ImportFields & { datasetId: number }, body: Readable): Promise<unknown> {
  if (fields.background) {
    const deps = { catalog: services.catalog, items: services.items, store: services.store, bucket: services.config.storage.privateBucket };
    return startLinkImportJob(services.jobs.jobs, deps, { kind, datasetId: fields.datasetId, body, forceMetadataForLinks: fields.forceMetadataForLinks });
  }
  const importer = new LinkImporter(services.catalog, services.items);
  return importer.run(kind, fields.datasetId, readLines(body), { forceMetadataForLinks: fields.forceMetadataForLinks });
}

/**
 * `images.links.import` / `videos.links.import`: multipart with a `datasetId`
 * field (or `?datasetId=`) and then a `file` part holding a links file, one
 * link per line. Streamed line by line; replies `{imported, skipped, errors:
 * [{line, link, reason}]}` once the whole file is in (see `link-import.ts`).
 * With `background=true` (field or query) the list is stored and imported
 * by a job (claimed, checkpointed by line, taken over by another instance
 * if this one dies): the reply is the job at once (`id`, `status`,
 * `counters`, `progress`), followed with `<kind>s.links.import.status {id}`.
 */
export function linksImportMethod(kind: ItemKind): ApiMethod {
  return defineMethod({
    name: `${kind}s.links.import`,
    multipart: true,
    handle: async ({ services, req }) => {
      if (!req.isMultipart()) throw new AppError('UnsupportedMedia', 'expected a multipart/form-data body: datasetId field, then file part');
      const fields: ImportFields = { forceMetadataForLinks: true, background: false };
      for (const [name, value] of Object.entries(req.query as Record<string, unknown>)) readField(fields, name, value);
      let reply: unknown;
      for await (const part of req.parts()) {
        if (part.type === 'field') {
          readField(fields, part.fieldname, part.value);
          continue;
        }
        if (reply !== undefined || fields.datasetId === undefined) {
          part.file.resume();
          if (reply !== undefined) continue; // one links file per call; later files are ignored
          throw new AppError('InvalidInput', 'datasetId: the datasetId field must come before the file part', { field: 'datasetId' });
        }
        try {
          reply = await importFile(services, kind, { ...fields, datasetId: fields.datasetId }, part.file);
        } catch (err) {
          part.file.resume(); // let the rest of the body drain so the error reply goes out
          throw err;
        }
      }
      if (reply === undefined) throw new AppError('InvalidInput', 'the multipart body has no file part', { field: 'file' });
      return reply;
    },
  });
}

/** `images.links.import.status {id}` / `videos…`: a background import job, with its counters and errors. */
export function linksImportStatusMethod(kind: ItemKind): ApiMethod {
  return defineMethod({
    name: `${kind}s.links.import.status`,
    verbs: ['GET', 'POST'],
    input: z.object({ id }),
    handle: async ({ input, services }) => {
      const job = await services.catalog.migrationJobs.get(input.id);
      if (job === undefined || !isLinkImportOf(job, kind)) throw new AppError('NotFound', `${kind} links import ${input.id} not found`, { entity: 'links import', id: input.id });
      return services.jobs.jobs.status(input.id);
    },
  });
}
