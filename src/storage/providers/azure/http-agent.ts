/**
 * The HTTP agent of an Azure store: keep-alive sockets owned by the store (so
 * `close()` can release them) with a connect timeout and an idle timeout, which
 * the SDK lacks (its `tryTimeoutInMs` is only a server-side hint).
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RequestPolicy, RequestPolicyFactory, WebResource } from '@azure/storage-blob';

/** Timeouts of {@link createTimeoutAgent}. */
export interface AgentTimeouts {
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { code: 'ETIMEDOUT' });
}

/**
 * Arms the connect timer on a new socket, then switches to the idle timeout.
 * A socket in use that times out is destroyed with an `ETIMEDOUT` error so the
 * request (or the body being streamed) fails instead of hanging; idle pooled
 * sockets are simply dropped by the agent. Node re-arms the timer on the next
 * byte, so a paused download is checked again once it resumes.
 */
export function armTimeouts(stream: Duplex | null | undefined, t: AgentTimeouts): void {
  const socket = stream as Socket | null | undefined;
  if (socket === null || socket === undefined || typeof socket.setTimeout !== 'function') return;
  let connected = false;
  socket.setTimeout(t.connectTimeoutMs);
  socket.once('connect', () => {
    connected = true;
    socket.setTimeout(t.requestTimeoutMs);
  });
  socket.on('timeout', () => {
    // A paused socket is our reader's backpressure (a slow client of a download), not a dead endpoint.
    if (connected && socket.isPaused()) return;
    const message = connected ? `no data for ${t.requestTimeoutMs} ms` : `connect timeout after ${t.connectTimeoutMs} ms`;
    socket.destroy(timeoutError(message));
  });
}

/** A keep-alive agent for `protocol` (`http:` or `https:`) with the timeouts applied to every socket. */
export function createTimeoutAgent(protocol: string, t: AgentTimeouts): http.Agent {
  // The agent re-applies `timeout` whenever a socket returns to or leaves the pool.
  const options = { keepAlive: true, maxSockets: 64, timeout: t.requestTimeoutMs };
  if (protocol === 'https:') {
    return new (class extends https.Agent {
      override createConnection(...args: Parameters<https.Agent['createConnection']>): ReturnType<https.Agent['createConnection']> {
        const socket = super.createConnection(...args);
        armTimeouts(socket, t);
        return socket;
      }
    })(options);
  }
  return new (class extends http.Agent {
    override createConnection(...args: Parameters<http.Agent['createConnection']>): ReturnType<http.Agent['createConnection']> {
      const socket = super.createConnection(...args);
      armTimeouts(socket, t);
      return socket;
    }
  })(options);
}

/**
 * A pipeline policy (the SDK's public `RequestPolicyFactory` form) sending
 * every request through `agent`.
 */
export function agentPolicy(agent: http.Agent): RequestPolicyFactory {
  return {
    create(next: RequestPolicy): RequestPolicy {
      return {
        sendRequest(request: WebResource) {
          request.agent = agent;
          return next.sendRequest(request);
        },
      };
    },
  };
}
