import {
  fitPayload,
  fitPayloadKeepingTail,
  payloadBytes,
  SUMMARY_MAX_BYTES,
  truncateUtf8,
} from '../../clients/workflow-metadata';

describe('bounding what goes to Temporal', () => {
  test('truncateUtf8 keeps short text, cuts long text on a code point with an ellipsis', () => {
    expect(truncateUtf8('XPhone 15', 240)).toBe('XPhone 15');
    const cut = truncateUtf8('株'.repeat(200), 240);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(240);
    expect(cut).toBe(`${'株'.repeat(79)}…`);
    // An emoji (4 bytes, two UTF-16 units) is never cut in half.
    expect(truncateUtf8('a😀😀', 8)).toBe('a😀…');
    const emoji = truncateUtf8('a😀😀', 7);
    expect(emoji).toBe('a…');
    expect(emoji).not.toMatch(/\p{Cs}/u);
  });

  test('fitPayload bounds the serialized Payload, JSON escapes included', () => {
    const quotes = '"'.repeat(500);
    const fitted = fitPayload(quotes, SUMMARY_MAX_BYTES);
    expect(payloadBytes(fitted)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES);
    expect(payloadBytes(`${fitted.slice(0, -1)}"…`)).toBeGreaterThan(SUMMARY_MAX_BYTES);
    expect(fitPayload('XPhone 15 · alice · unit 23', SUMMARY_MAX_BYTES)).toBe('XPhone 15 · alice · unit 23');
    const cjk = fitPayload('雪'.repeat(400), SUMMARY_MAX_BYTES);
    expect(payloadBytes(cjk)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES);
    expect(cjk.endsWith('…')).toBe(true);
  });

  test('fitPayloadKeepingTail cuts the head to the room the whole tail leaves', () => {
    const tail = ` · ${'雪'.repeat(32)} · unit 123456`; // a 96-byte shopper id, as boundedSummary bounds it
    const head = '北京限定版智能手机'.repeat(23).slice(0, 200); // 600 bytes of UTF-8
    const fitted = fitPayloadKeepingTail(head, tail, SUMMARY_MAX_BYTES);
    expect(payloadBytes(fitted)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES);
    expect(fitted.endsWith(`…${tail}`)).toBe(true);
    expect(fitted.startsWith('北京限定版')).toBe(true);
    const kept = Array.from(fitted.slice(0, -tail.length - 1)).length;
    expect(
      payloadBytes(
        `${Array.from(head)
          .slice(0, kept + 1)
          .join('')}…${tail}`,
      ),
    ).toBeGreaterThan(SUMMARY_MAX_BYTES);
    expect(fitPayloadKeepingTail('XPhone 15', ' · alice · unit 23', SUMMARY_MAX_BYTES)).toBe('XPhone 15 · alice · unit 23');
  });
});
