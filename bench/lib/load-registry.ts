/**
 * The acknowledged uploads of a load run: what the clients may read back and
 * must find intact. An upload is acknowledged when `images.bulk.add` answered
 * 2xx with its id and hash (or, after a lost reply, when the name it took was
 * confirmed to hold our hash).
 */
import type { UploadBody } from './load-bodies.ts';

export interface AckedUpload {
  id: number;
  datasetId: number;
  pathOriginal: string;
  body: UploadBody;
  /** Instance that acknowledged the `bulk.add`. */
  via: number;
}

/** How many uploads a dataset had acknowledged, and the largest id, at some moment. */
export interface DatasetSnapshot {
  count: number;
  maxId: number;
}

export class UploadRegistry {
  readonly acked: AckedUpload[] = [];
  readonly #byId = new Map<number, AckedUpload>();
  readonly #datasets = new Map<number, DatasetSnapshot>();
  readonly #previewable: AckedUpload[] = [];

  add(u: AckedUpload): void {
    this.acked.push(u);
    this.#byId.set(u.id, u);
    if (!u.body.base.large) this.#previewable.push(u);
    const d = this.#datasets.get(u.datasetId) ?? { count: 0, maxId: 0 };
    this.#datasets.set(u.datasetId, { count: d.count + 1, maxId: Math.max(d.maxId, u.id) });
  }

  byId(id: number): AckedUpload | undefined {
    return this.#byId.get(id);
  }

  snapshot(datasetId: number): DatasetSnapshot {
    return { ...(this.#datasets.get(datasetId) ?? { count: 0, maxId: 0 }) };
  }

  /**
   * An upload to read back: half the time one of the 32 newest (read-after-write
   * through another instance), else any. `small` leaves out the large files.
   */
  pick(rand: () => number, small = false): AckedUpload | undefined {
    const list = small ? this.#previewable : this.acked;
    if (list.length === 0) return undefined;
    const window = rand() < 0.5 ? Math.min(32, list.length) : list.length;
    return list[list.length - 1 - Math.floor(rand() * window)];
  }
}
