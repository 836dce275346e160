import { z } from 'zod';
import { logEnv, parseEnv, payloadKeysEnv, secret } from '../config/common';

export const codecServerEnv = payloadKeysEnv.merge(logEnv).extend({
  CODEC_SERVER_HOST: z.string().default('127.0.0.1'),
  CODEC_SERVER_PORT: z.coerce.number().int().min(0).max(65_535).default(8234),
  /** The Web UI's origins, the only ones whose browser pages may call it (comma list). */
  CODEC_SERVER_ORIGINS: z
    .string()
    .default('http://127.0.0.1:8233')
    .transform((list) =>
      list
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'origins like https://temporal-ui.example, no path')).min(1)),
  /** The path segment a request must carry: the Web UI's codec endpoint is `http://host:port/<this>`. */
  CODEC_SERVER_TOKEN: secret(24).regex(/^[A-Za-z0-9_-]+$/, 'URL-safe characters only (A-Z a-z 0-9 _ -)'),
});

export type CodecServerConfig = ReturnType<typeof loadCodecServerConfig>;

export function loadCodecServerConfig(env: NodeJS.ProcessEnv) {
  return parseEnv(codecServerEnv, env);
}
