import { AppError } from '../../errors.ts';
import { LinkImporter, readLines, type ImportReport } from '../../services/link-import.ts';
import type { ItemKind } from '../../services/items.ts';
import { defineMethod, type ApiMethod } from '../api-method.ts';
import { id, wireBool } from '../wire-types.ts';

/** Form fields that may precede the file part (or come in the query string). */
interface ImportFields {
  datasetId?: number;
  forceMetadataForLinks: boolean;
}

function readField(fields: ImportFields, name: string, value: unknown): void {
  if (name === 'datasetId') {
    const parsed = id.safeParse(value);
    if (!parsed.success) throw new AppError('InvalidInput', `datasetId: expected a numeric id, got "${String(value).slice(0, 40)}"`, { field: 'datasetId' });
    fields.datasetId = parsed.data;
  } else if (name === 'forceMetadataForLinks') {
    const parsed = wireBool.safeParse(value);
    if (!parsed.success) throw new AppError('InvalidInput', 'forceMetadataForLinks: expected true or false', { field: 'forceMetadataForLinks' });
    fields.forceMetadataForLinks = parsed.data;
  }
}

/**
 * `images.links.import` / `videos.links.import`: multipart with a `datasetId`
 * field (or `?datasetId=`) and then a `file` part holding a links file, one
 * link per line. Streamed line by line; replies `{imported, skipped, errors:
 * [{line, link, reason}]}` once the whole file is in (see `link-import.ts`).
 */
export function linksImportMethod(kind: ItemKind): ApiMethod {
  return defineMethod({
    name: `${kind}s.links.import`,
    multipart: true,
    handle: async ({ services, req }) => {
      if (!req.isMultipart()) throw new AppError('UnsupportedMedia', 'expected a multipart/form-data body: datasetId field, then file part');
      const fields: ImportFields = { forceMetadataForLinks: true };
      for (const [name, value] of Object.entries(req.query as Record<string, unknown>)) readField(fields, name, value);
      let report: ImportReport | undefined;
      for await (const part of req.parts()) {
        if (part.type === 'field') {
          readField(fields, part.fieldname, part.value);
          continue;
        }
        if (report !== undefined || fields.datasetId === undefined) {
          part.file.resume();
          if (report !== undefined) continue; // one links file per call; later files are ignored
          throw new AppError('InvalidInput', 'datasetId: the datasetId field must come before the file part', { field: 'datasetId' });
        }
        const importer = new LinkImporter(services.catalog, services.items);
        try {
          report = await importer.run(kind, fields.datasetId, readLines(part.file), { forceMetadataForLinks: fields.forceMetadataForLinks });
        } catch (err) {
          part.file.resume(); // let the rest of the body drain so the error reply goes out
          throw err;
        }
      }
      if (report === undefined) throw new AppError('InvalidInput', 'the multipart body has no file part', { field: 'file' });
      return report;
    },
  });
}
