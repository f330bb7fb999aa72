import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Principal } from '../services/auth.ts';
import type { Services } from '../services/services.ts';

/** One call of a method: validated input plus what a handler may need. */
export interface ApiCall<I> {
  input: I;
  principal: Principal;
  services: Services;
  req: FastifyRequest;
  reply: FastifyReply;
  /** `scheme://host` of this server, for absolute URLs (`fullStorageUrl`). */
  baseUrl: string;
}

/**
 * A method of the compatible API (`/public/api/v3/<name>`). Returning a value
 * sends it as JSON; a handler that streams sends through `reply` and returns it.
 */
export interface ApiMethod<S extends z.ZodType = z.ZodType> {
  name: string;
  /** HTTP verbs accepted. Default POST only. */
  verbs?: ReadonlyArray<'GET' | 'POST'>;
  /** Validates the JSON body, form body or query string; omitted for multipart methods. */
  input?: S;
  /** Admin key only. */
  admin?: boolean;
  /** The handler reads a multipart body itself (`req.parts()`). */
  multipart?: boolean;
  handle(call: ApiCall<z.output<S>>): Promise<unknown>;
}

/** Declares a method with its input type inferred from the schema. */
export function defineMethod<S extends z.ZodType>(m: ApiMethod<S>): ApiMethod<S> {
  return m;
}
