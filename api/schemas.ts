import { z } from 'zod';
import { DEFAULT_HOLD_SECONDS, DEFAULT_RELEASE_POLICY, RELEASE_POLICIES } from '../domain/reservation';
import { ErrorCode } from '../domain/errors';
import {
  DEFAULT_ADMISSION_SECONDS,
  DEFAULT_CONFIRM_SECONDS,
  DEFAULT_POW_DIFFICULTY,
  MAX_POW_DIFFICULTY,
} from '../domain/waiting-room';
import { PLAIN_TEXT } from '../domain/plain-text';
import { Problem } from './problem';

/** Text Postgres can store and a log line can show (domain/plain-text.ts), 1 to `max` characters after trimming. */
export const plainText = (max: number) =>
  z
    .string()
    // Checked before the trim, as docs/openapi.yaml's pattern is: a trailing form feed is refused too.
    .regex(PLAIN_TEXT, 'no control characters')
    .trim()
    .min(1)
    .max(max);

export const createSaleBody = z.strictObject({
  sku: plainText(64),
  name: plainText(200),
  units: z.number().int().min(1).max(1_000_000),
  priceCents: z.number().int().min(1).max(100_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR'),
  startsAt: z.iso.datetime({ offset: true }).optional(),
  holdSeconds: z.number().int().min(1).max(86_400).default(DEFAULT_HOLD_SECONDS),
  /** Opt-in: shoppers join a queue and claim only once admitted (docs/DESIGN.md, "Waiting room"). */
  waitingRoom: z
    .strictObject({
      admitPerSecond: z.number().int().min(1).max(10_000),
      admissionSeconds: z.number().int().min(10).max(3_600).default(DEFAULT_ADMISSION_SECONDS),
      /** The admission's first, short window, until the shopper is told (domain/waiting-room.ts); by default 15 s or the whole admission if shorter. */
      confirmSeconds: z.number().int().min(5).max(3_600).optional(),
      powDifficulty: z.number().int().min(0).max(MAX_POW_DIFFICULTY).default(DEFAULT_POW_DIFFICULTY),
    })
    .refine((room) => room.confirmSeconds === undefined || room.confirmSeconds <= room.admissionSeconds, {
      message: 'confirmSeconds must not exceed admissionSeconds',
      path: ['confirmSeconds'],
    })
    .transform((room) => ({
      ...room,
      confirmSeconds: room.confirmSeconds ?? Math.min(DEFAULT_CONFIRM_SECONDS, room.admissionSeconds),
    }))
    .optional(),
  releasePolicy: z.enum(RELEASE_POLICIES).default(DEFAULT_RELEASE_POLICY),
});
export type CreateSaleBody = z.infer<typeof createSaleBody>;

/** Printable ASCII, as Stripe and the IETF draft use; long enough for a UUID with a prefix. */
export const idempotencyKeyHeader = z.string().regex(/^[\x21-\x7e]{1,255}$/, '1 to 255 printable ASCII characters');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids that are not UUIDs cannot name anything: answer 404 without asking the database. */
export function requireUuid(value: unknown, what: string): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw new Problem(404, ErrorCode.NotFound, `${what} not found`);
  return value.toLowerCase();
}

/** express.json's `limit` (api/app.ts): the largest JSON body read, in bytes. */
export const JSON_BODY_LIMIT_BYTES = 16 * 1024;

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === undefined)
    throw new Problem(400, ErrorCode.InvalidRequest, 'send a JSON body with Content-Type: application/json');
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
    throw new Problem(400, ErrorCode.InvalidRequest, detail, {
      errors: parsed.error.issues.map(({ path, message }) => ({ path, message })),
    });
  }
  return parsed.data;
}

export const joinQueueBody = z.strictObject({
  challenge: z.string().min(1).max(1024),
  nonce: z.string().min(1).max(64),
});
