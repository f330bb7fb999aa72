/** A minimal client of Stowage's Supervisely-compatible v3 API, for benchmarks. */

export interface ApiTarget {
  baseUrl: string;
  apiKey: string;
}

/** An image as `images.bulk.add` and `images.list` return it (the fields the benches read). */
export interface ImageInfo {
  id: number;
  name: string;
  hash: string;
  pathOriginal: string;
}

export interface ListPage {
  total: number;
  perPage: number;
  pagesCount: number;
  entities: ImageInfo[];
  after?: string | null;
}

export function methodUrl(target: ApiTarget, method: string): string {
  return `${target.baseUrl}/public/api/v3/${method}`;
}

/** POSTs JSON to a method and returns the parsed reply; non-2xx throws with the body. */
export async function callApi<T>(target: ApiTarget, method: string, body: unknown): Promise<T> {
  const res = await fetch(methodUrl(target, method), {
    method: 'POST',
    headers: { 'x-api-key': target.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Creates an images project with one dataset; returns the dataset id. */
export async function createDataset(target: ApiTarget, name: string): Promise<{ projectId: number; datasetId: number }> {
  const project = await callApi<{ id: number }>(target, 'projects.add', { name, workspaceId: 1, type: 'images' });
  const dataset = await callApi<{ id: number }>(target, 'datasets.add', { projectId: project.id, name: 'ds0' });
  return { projectId: project.id, datasetId: dataset.id };
}

/** `images.bulk.upload` of in-memory files (parts `0-file`, `1-file`...); returns their hashes in order. */
export async function uploadImages(target: ApiTarget, files: readonly Uint8Array[], mime: string): Promise<string[]> {
  const form = new FormData();
  files.forEach((bytes, i) => form.append(`${i}-file`, new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }), String(i)));
  const res = await fetch(methodUrl(target, 'images.bulk.upload'), {
    method: 'POST', headers: { 'x-api-key': target.apiKey }, body: form,
  });
  return hashesOf(res, files.length);
}

/** Reads a `[{hash}]` upload reply, failing on any per-file error. */
export async function hashesOf(res: Response, expected: number): Promise<string[]> {
  const text = await res.text();
  if (!res.ok) throw new Error(`images.bulk.upload answered ${res.status}: ${text.slice(0, 500)}`);
  const results = JSON.parse(text) as Array<{ hash?: string; errors?: string }>;
  if (results.length !== expected) throw new Error(`images.bulk.upload returned ${results.length} results for ${expected} files`);
  return results.map((r, i) => {
    if (typeof r.hash !== 'string') throw new Error(`images.bulk.upload rejected file ${i}: ${r.errors ?? JSON.stringify(r)}`);
    return r.hash;
  });
}

/** `images.bulk.add` in calls of at most 1,000 (the method's limit). */
export async function addImages(target: ApiTarget, datasetId: number, images: ReadonlyArray<{ title: string; hash: string }>): Promise<ImageInfo[]> {
  const out: ImageInfo[] = [];
  for (let i = 0; i < images.length; i += 1000) {
    out.push(...await callApi<ImageInfo[]>(target, 'images.bulk.add', { datasetId, images: images.slice(i, i + 1000) }));
  }
  return out;
}
