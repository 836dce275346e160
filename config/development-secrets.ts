/**
 * The secrets `npm run dev` (and `npm run token`) use when none is set. Imported only by the
 * development launchers, never by an entry point: api/, worker/, codec-server/ and psp-simulator/ refuse to start without
 * their secrets, so a deployment that forgets one stops instead of accepting tokens anyone can mint.
 */
export const DEVELOPMENT_SECRETS = {
  JWT_SECRET: 'dev-only-jwt-secret-change-me-0123456789abcdef',
  ADMIN_TOKEN: 'dev-admin-token',
  WEBHOOK_SECRET: 'dev-webhook-secret',
  QUEUE_SECRET: 'dev-only-queue-secret-change-me-0123456789abcdef',
  ERASURE_SECRET: 'dev-only-erasure-secret-change-me-0123456789abcdef',
  /** The bytes of `dev-only-payload-key-change-me!!`: histories of `npm run dev` are encrypted with a key anyone can read. */
  TEMPORAL_PAYLOAD_KEYS: 'dev:ZGV2LW9ubHktcGF5bG9hZC1rZXktY2hhbmdlLW1lISE=',
  CODEC_SERVER_TOKEN: 'dev-only-codec-token-change-me',
} as const;

/** The development secrets, each overridden by the variable of the same name when it is set. */
export function developmentSecretsEnv(env: NodeJS.ProcessEnv): Record<keyof typeof DEVELOPMENT_SECRETS, string> {
  return {
    JWT_SECRET: env.JWT_SECRET || DEVELOPMENT_SECRETS.JWT_SECRET,
    ADMIN_TOKEN: env.ADMIN_TOKEN || DEVELOPMENT_SECRETS.ADMIN_TOKEN,
    WEBHOOK_SECRET: env.WEBHOOK_SECRET || DEVELOPMENT_SECRETS.WEBHOOK_SECRET,
    QUEUE_SECRET: env.QUEUE_SECRET || DEVELOPMENT_SECRETS.QUEUE_SECRET,
    ERASURE_SECRET: env.ERASURE_SECRET || DEVELOPMENT_SECRETS.ERASURE_SECRET,
    TEMPORAL_PAYLOAD_KEYS: env.TEMPORAL_PAYLOAD_KEYS || DEVELOPMENT_SECRETS.TEMPORAL_PAYLOAD_KEYS,
    CODEC_SERVER_TOKEN: env.CODEC_SERVER_TOKEN || DEVELOPMENT_SECRETS.CODEC_SERVER_TOKEN,
  };
}
