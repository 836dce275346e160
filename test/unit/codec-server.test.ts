import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { createCodecServer } from '../../codec-server/create-codec-server';
import { createEncryptionCodec } from '../../payload-codec/encryption-codec';
import { parsePayloadKeys } from '../../payload-codec/payload-keys';

/* The Web UI's codec endpoint: Temporal's remote codec protocol, the token, CORS for the UI only. */
const TOKEN = 'codec-token-0123456789abcdef';
const UI = 'http://127.0.0.1:8233';
const codec = createEncryptionCodec(parsePayloadKeys(`k1:${Buffer.alloc(32, 3).toString('base64')}`));
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer(createCodecServer({ codec, token: TOKEN, origins: [UI] }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const toJson = (payload: Payload) => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(payload.data ?? []).toString('base64'),
});
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: UI, ...headers },
    body: JSON.stringify(body),
  });

test('decode under the token gives the plain payload back, with CORS for the UI', async () => {
  const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload({ shopperId: 'alice' })!]);
  const answer = await post(`/${TOKEN}/decode`, { payloads: [toJson(encrypted!)] });
  expect(answer.status).toBe(200);
  expect(answer.headers.get('access-control-allow-origin')).toBe(UI);
  const { payloads } = (await answer.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
  expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
  expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual({ shopperId: 'alice' });
});

test('encode then decode round-trips; a bearer token works as well as the path', async () => {
  const plain = toJson(defaultPayloadConverter.toPayload('hello')!);
  const encoded = (await (await post(`/${TOKEN}/encode`, { payloads: [plain] })).json()) as { payloads: unknown[] };
  const decoded = await post('/decode', encoded, { authorization: `Bearer ${TOKEN}` });
  expect(((await decoded.json()) as { payloads: unknown[] }).payloads).toEqual([plain]);
});

test('without the token, or with another, it is a 404 and nothing is decoded', async () => {
  const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload('secret')!]);
  for (const path of ['/decode', '/wrong-token-0123456789abcdef/decode', `/${TOKEN.slice(0, -1)}/decode`])
    expect((await post(path, { payloads: [toJson(encrypted!)] })).status).toBe(404);
});

test('a preflight from another origin gets no CORS permission', async () => {
  const other = await fetch(`${base}/${TOKEN}/decode`, {
    method: 'OPTIONS',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
  });
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
  const ui = await fetch(`${base}/${TOKEN}/decode`, {
    method: 'OPTIONS',
    headers: {
      origin: UI,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-namespace',
    },
  });
  expect(ui.headers.get('access-control-allow-origin')).toBe(UI);
});

test('bad bodies are 400, a payload that fails authentication is 422 naming the key id', async () => {
  expect((await post(`/${TOKEN}/decode`, { nope: true })).status).toBe(400);
  const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload('x')!]);
  const tampered = toJson(encrypted!);
  tampered.data = Buffer.from(Buffer.from(tampered.data, 'base64').map((byte, i) => (i === 14 ? byte ^ 1 : byte))).toString(
    'base64',
  );
  const answer = await post(`/${TOKEN}/decode`, { payloads: [tampered] });
  expect(answer.status).toBe(422);
  expect(((await answer.json()) as { detail: string }).detail).toMatch(/key k1 failed authentication/);
});
