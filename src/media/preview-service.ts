/**
 * Previews: resized, re-encoded versions of any image, local, linked or
 * converted (`plain/image-converter/…`), made with sharp and kept in the
 * previews cache. Planning is cheap (parse, locate, identify the source);
 * the work happens in `fill`, in a {@link WorkSlots} slot.
 */
import type { FillResult } from '../cache/disk-cache.ts';
import { openImage, undecodable } from './convert-decode.ts';
import { Converter, derivedKey, type DerivedPlan, type MediaCache, type MediaContext } from './convert-service.ts';
import { CONVERTER_ROOT, parseConverterUrl } from './convert-url.ts';
import { defaultFormat, FORMAT_MIME, renderPreview } from './preview-render.ts';
import { loadInput, objectIdentity, readOriginal, type LoadedInput, type ObjectAt, type SourceIdentity } from './preview-source.ts';
import { normalizedOptions, parsePreviewUrl, type PreviewOptions } from './preview-url.ts';

/** Bump when previews change for the same inputs, so old cache entries are not served. */
const PREVIEW_VERSION = 'p1';

/** A source made ready to read: `open` gives its bytes for decoding. */
type Opener = () => Promise<LoadedInput>;

/** The original of a preview: its identity, and how to make it readable (which may run the converter). */
interface PreviewSource {
  identity: SourceIdentity;
  prepare(): Promise<Opener>;
}

/** Plans previews; see the module comment. */
export class Previews {
  readonly #ctx: MediaContext;
  readonly #converter: Converter;
  readonly #converterCache: MediaCache;

  constructor(ctx: MediaContext, converter: Converter, converterCache: MediaCache) {
    this.#ctx = ctx;
    this.#converter = converter;
    this.#converterCache = converterCache;
  }

  /**
   * Plans the preview at `/previews/<rest>` (`rest` percent-encoded);
   * `query` is the request's (a converter source reads `videoStreamIndex`).
   * @throws AppError `InvalidInput` for bad options or paths, StorageError
   *   `NotFound` for a missing original.
   */
  async plan(rest: string, query: Record<string, unknown> = {}): Promise<DerivedPlan> {
    const { options, source } = parsePreviewUrl(rest);
    const src = await this.#source(source, query);
    const { key, hash, etag } = derivedKey(PREVIEW_VERSION, src.identity.id, normalizedOptions(options, options.format ?? 'auto'));
    return { key, hash, etag, immutable: src.identity.immutable, fill: () => this.#render(src, options, etag) };
  }

  async #source(source: string, query: Record<string, unknown>): Promise<PreviewSource> {
    if (source.startsWith(`${CONVERTER_ROOT}/`)) {
      const plan = await this.#converter.plan(parseConverterUrl(source.slice(CONVERTER_ROOT.length + 1), query));
      if (plan.kind === 'original') return this.#original(plan.at, plan.identity);
      return {
        identity: { id: plan.key, immutable: plan.immutable },
        prepare: async () => {
          const { entry } = await this.#converterCache.getOrFill(plan.key, () => plan.fill());
          return async () => loadInput(entry.open(), this.#ctx.tmpDir);
        },
      };
    }
    const at = this.#ctx.locate(source);
    return this.#original(at, await objectIdentity(at, this.#ctx.store));
  }

  #original(at: ObjectAt, identity: SourceIdentity): PreviewSource {
    const open: Opener = () => readOriginal(at, this.#ctx.tmpDir);
    return { identity, prepare: async () => open };
  }

  async #render(src: PreviewSource, o: PreviewOptions, etag: string): Promise<FillResult> {
    // A converter source is made before taking a slot: its own fill needs one.
    const open = await src.prepare();
    return this.#ctx.slots.run(async () => {
      const input = await open();
      try {
        const img = await openImage(input, o.page);
        const format = o.format ?? defaultFormat(img.mime, img.hasAlpha);
        const bytes = await renderPreview(img, o, format).toBuffer().catch((err: unknown) => { throw undecodable(err); });
        return { bytes, contentType: FORMAT_MIME[format], etag };
      } finally {
        await input.cleanup();
      }
    });
  }
}
