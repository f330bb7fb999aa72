/**
 * What the peer launchers share: free loopback ports, waiting for a child
 * process to say it is ready, and stopping it (also when the test process
 * exits without stopping it).
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** Listens on `port` of 127.0.0.1 (0: any) and closes; resolves with the port, or undefined when it is taken. */
export function listenOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : undefined));
    });
  });
}

/**
 * A loopback port the OS reports free. It is released before the peer binds
 * it, so another process may take it first: launchers retry on EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const port = await listenOn(0);
  if (port === undefined) throw new Error('no free loopback port');
  return port;
}

/** Kills `child` if the test process exits while it still runs (an exit handler cannot wait for a graceful stop). */
export function killOnExit(child: ChildProcess): void {
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}

/** How {@link waitForLine} names the peer in its failure. */
export interface ReadyLine {
  /** The peer, e.g. `Azurite (Azure Blob emulator)`. */
  readonly peer: string;
  /** Matched against everything the child printed so far (stdout and stderr). */
  readonly pattern: RegExp;
  /** What the line says, for the failure message, e.g. `listening`. */
  readonly says: string;
  readonly timeoutMs: number;
}

/**
 * Resolves with the match once the child prints a line matching `ready.pattern`;
 * rejects, naming the peer and with its last output, when it exits, fails to
 * start or stays silent past the timeout. Output is drained afterwards so a
 * chatty peer never blocks on a full pipe.
 */
export function waitForLine(child: ChildProcess, ready: ReadyLine): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let output = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`${ready.peer} did not start: ${why}\n${output.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail(`no "${ready.says}" line within ${ready.timeoutMs} ms`), ready.timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = ready.pattern.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout?.off('data', onData).resume();
      child.stderr?.off('data', onData).resume();
      resolve(match);
    };
    const onExit = (code: number | null, signal: string | null): void => fail(`it exited (code ${code}, signal ${signal})`);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (err) => fail(err.message));
  });
}

/** SIGTERM, then SIGKILL after `graceMs` if the child has not exited by then; resolves when it has. */
export async function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
