import { Readable } from 'node:stream';

/**
 * A body of unknown length that sends `first`, then waits for `release()`
 * before sending `second`: for tests that change something (credentials,
 * the peer) in the middle of an upload.
 */
export function gatedBody(first: Buffer, second: Buffer): { body: Readable; release: () => void } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  async function* chunks(): AsyncGenerator<Buffer> {
    yield first;
    await gate;
    yield second;
  }
  return { body: Readable.from(chunks(), { objectMode: false }), release: () => release() };
}
