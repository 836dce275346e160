import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const claims = new Counter({
    name: 'claims_total',
    help: 'Claim attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const queueMeFastPath = new Counter({
    name: 'queue_me_fast_path_total',
    help: 'queue/me answers written by the fast path in front of Express (api/queue-me-fast-path.ts)',
    registers: [registry],
  });

  const joinFastPath = new Counter({
    name: 'join_fast_path_total',
    help: 'Waiting-room challenge and queue join answers written by the fast path in front of Express (api/join-fast-path.ts), by route',
    labelNames: ['route'] as const,
    registers: [registry],
  });

  const crowdShed = new Counter({
    name: 'crowd_shed_total',
    help: 'Waiting-crowd requests answered in front of Express while the event loop ran late (api/crowd-shedding.ts), by route and answer: `refused` 429 with Retry-After, `from-memory` queue/me with a later poll',
    labelNames: ['route', 'answer'] as const,
    registers: [registry],
  });

  const connectionsDropped = new Counter({
    name: 'http_connections_dropped_total',
    help: 'Client connections closed on arrival because the API held HTTP_MAX_CONNECTIONS already (api/connection-cap.ts)',
    registers: [registry],
  });

  const queuePlaceReads = new Counter({
    name: 'queue_place_reads_total',
    help: 'Postgres reads of a waiting-room place for queue/me and its stream: `shopper` one shopper’s row, `positions` one load of the positions given out for every place the process keeps',
    labelNames: ['kind'] as const,
    registers: [registry],
  });

  const saleFeedPolls = new Counter({
    name: 'sale_feed_polls_total',
    help: 'Readings of a sale by the live sale feed (one poller per watched sale), by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const saleFeedSubscribers = new Gauge({
    name: 'sale_feed_subscribers',
    help: 'Open sale event streams (public and admin) in this process',
    registers: [registry],
  });

  const streamsOpen = new Gauge({
    name: 'event_streams_open',
    help: 'Open Server-Sent Events streams in this process, as counted against SSE_MAX_STREAMS',
    registers: [registry],
  });
  const streamsRefused = new Counter({
    name: 'event_streams_refused_total',
    help: 'Event streams answered 429, by the cap they hit (total, per-ip, per-shopper)',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  const waitlistFeedReads = new Counter({
    name: 'waitlist_feed_reads_total',
    help: 'Statements reading the followed entries of a sale’s waitlist streams (api/services/waitlist-feed.ts), one per move per sale',
    registers: [registry],
  });
  const changeFeedReconnects = new Counter({
    name: 'change_feed_reconnects_total',
    help: 'Reconnects of the change feed’s LISTEN connection, by reason (ended, check-failed)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  const observeRequests: RequestHandler = (req, res, next) => {
    const stop = httpDuration.startTimer({ method: req.method });
    res.on('finish', () => {
      // The route pattern, not the raw path, keeps the label set small.
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      stop({ route, status: String(res.statusCode) });
    });
    next();
  };

  return {
    registry,
    connectionsDropped,
    claims,
    queueMeFastPath,
    joinFastPath,
    crowdShed,
    queuePlaceReads,
    saleFeedPolls,
    saleFeedSubscribers,
    streamsOpen,
    streamsRefused,
    waitlistFeedReads,
    changeFeedReconnects,
    observeRequests,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
