import { z } from 'zod';

/** An entity id: a positive integer, also accepted as a string (form bodies, queries). */
export const id = z.coerce.number({ message: 'expected a numeric id' }).int().positive();

/** A boolean as JSON or as the SDK's query spelling (`True`/`False`). */
export const wireBool = z.union([z.boolean(), z.enum(['True', 'False', 'true', 'false', '1', '0'])])
  .transform((v) => v === true || v === 'True' || v === 'true' || v === '1');

/** A JSON object (customData, meta, settings). */
export const jsonObject = z.record(z.string(), z.unknown());

/** The wire's base64 SHA-256 (44 characters with padding). */
export const hash = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'expected base64 SHA-256 (44 characters)');
