/**
 * Which connections should serve links, given the file's and the API's: the
 * file wins. An API connection whose name is also in the file, or that shares
 * a bucket with a file connection, is shadowed (kept in the catalog, not
 * served) until the file stops defining it, so an operator's edit of the file
 * always takes effect and is never refused because of a catalog row.
 */
import { bucketOverlaps } from './connection-overlap.ts';
import type { ConnectionSettings } from './connection-schema.ts';
import { settingsFingerprint } from './connection-stores.ts';

/** Where a connection is defined. */
export type ConnectionSource = 'file' | 'api';

/** A connection that should be served. */
export interface PlannedConnection {
  name: string;
  source: ConnectionSource;
  settings: ConnectionSettings;
  fingerprint: string;
  /** Line of its name in remote_links.yml (file connections). */
  line?: number | undefined;
}

/** The plan: connections to serve, in order, and why the others are not served. */
export interface ConnectionPlan {
  serve: PlannedConnection[];
  /** name → why it is not served (API connections only). */
  shadowed: Map<string, string>;
}

type Input = { name: string; settings: ConnectionSettings; line?: number | undefined };

/** Plans file connections first, then the API's that clash with none of them. */
export function planConnections(file: readonly Input[], api: readonly Input[]): ConnectionPlan {
  const serve: PlannedConnection[] = file.map((c) => ({ ...c, source: 'file', fingerprint: settingsFingerprint(c.settings) }));
  const shadowed = new Map<string, string>();
  const fileNames = new Set(file.map((c) => c.name));
  for (const c of api) {
    if (fileNames.has(c.name)) {
      shadowed.set(c.name, `shadowed: remote_links.yml also defines connection "${c.name}" (the file wins)`);
      continue;
    }
    const clash = bucketOverlaps([...serve, c]).find((o) => o.name === c.name);
    if (clash !== undefined) {
      shadowed.set(c.name, `shadowed: ${clash.message}`);
      continue;
    }
    serve.push({ name: c.name, source: 'api', settings: c.settings, fingerprint: settingsFingerprint(c.settings) });
  }
  return { serve, shadowed };
}
