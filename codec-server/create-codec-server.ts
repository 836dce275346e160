import { timingSafeEqual } from 'node:crypto';
import type { PayloadCodec } from '@temporalio/common';
import cors from 'cors';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';

/** A Payload in protobuf JSON, as the Web UI and the CLI send it: metadata values and data in base64. */
const jsonPayload = z.object({
  metadata: z.record(z.string(), z.base64()).nullish(),
  data: z.base64().nullish(),
});
const payloadsBody = z.object({ payloads: z.array(jsonPayload).max(1_000) });
type JsonPayload = z.infer<typeof jsonPayload>;

const fromJson = ({ metadata, data }: JsonPayload) => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});
const toJson = ({ metadata, data }: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(
    Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  ),
  data: Buffer.from(data ?? []).toString('base64'),
});

const problem = (res: Response, status: number, title: string, detail?: string) =>
  res
    .status(status)
    .type('application/problem+json')
    .json({ type: 'about:blank', title, status, ...(detail && { detail }) });

/**
 * Temporal's remote codec protocol (POST …/encode and …/decode, `{ payloads: [...] }` in
 * protobuf JSON) over the payload codec, for the Web UI and `temporal --codec-endpoint`. CORS
 * answers only the Web UI's origins. A request must name the token as the first path segment
 * (`/<token>/decode`, the endpoint the Web UI is configured with) or send it as a bearer token;
 * anything else is a 404, as if there were nothing here.
 */
export function createCodecServer(options: { codec: PayloadCodec; token: string; origins: readonly string[] }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.use(
    cors({
      origin: [...options.origins],
      methods: ['POST'],
      allowedHeaders: ['Content-Type', 'X-Namespace', 'Authorization'],
      maxAge: 600,
    }),
  );
  const expected = Buffer.from(options.token);
  const sameToken = (given: string | undefined) =>
    given !== undefined && Buffer.byteLength(given) === expected.length && timingSafeEqual(Buffer.from(given), expected);
  const authorized = (req: Request, res: Response, next: NextFunction) => {
    const bearer = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (sameToken(req.params.token as string | undefined) || sameToken(bearer)) return next();
    return problem(res, 404, 'Not Found');
  };
  const route = (action: 'encode' | 'decode') => async (req: Request, res: Response) => {
    const body = payloadsBody.safeParse(req.body);
    if (!body.success) return problem(res, 400, 'Bad Request', 'expected { payloads: [{ metadata, data }] } in protobuf JSON');
    try {
      const payloads = await options.codec[action](body.data.payloads.map(fromJson));
      return res.json({ payloads: payloads.map(toJson) });
    } catch (error) {
      // The codec's own message names a key id or a failed authentication, never key material.
      return problem(res, 422, `Cannot ${action}`, (error as Error).message);
    }
  };
  const json = express.json({ limit: '4mb' });
  for (const action of ['encode', 'decode'] as const) {
    app.post(`/:token/${action}`, authorized, json, route(action));
    app.post(`/${action}`, authorized, json, route(action));
  }
  app.use((_req: Request, res: Response) => void problem(res, 404, 'Not Found'));
  app.use((error: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
    problem(res, status, status === 500 ? 'Internal Server Error' : 'Bad Request');
  });
  return app;
}
