import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The service's Prometheus metrics, in one registry per app (never
 * prom-client's global one: tests run several apps in one process, and two
 * apps must not count into each other). Modules get the few metrics they
 * increment; each increment is one line where the thing happens.
 */
export interface Metrics {
  readonly registry: Registry;
  /** HTTP requests by operation (GraphQL operation name or route) and outcome. */
  readonly requests: Counter<'operation' | 'outcome'>;
  readonly requestDuration: Histogram<'operation' | 'outcome'>;
  /**
   * Credential checks by kind (`api_token`, `session`, `scim_token`, `introspection_client`, `metrics_token`, `none`)
   * and result: the verifier's outcome in lower case (`ok`, `malformed`, `unknown`, `expired`, `revoked`, `disabled`,
   * `user_inactive`), or `error` when the check itself failed.
   */
  readonly authentications: Counter<'kind' | 'result'>;
  readonly eventsPublished: Counter<'kind'>;
  readonly eventPublishFailures: Counter;
  readonly sweeps: Counter<'outcome'>;
  /** Seconds since the last sweep that completed: alert when it grows past a few SWEEP_INTERVALs. */
  readonly sweepLag: Gauge;
  readonly tokensExpired: Counter;
  readonly expiryWarnings: Counter;
  /** Delivery attempts by outcome: `sent`, `retry` (failed, will retry), `failed` (gave up). */
  readonly mailDeliveries: Counter<'outcome'>;
  readonly scimOperations: Counter<'resource' | 'method' | 'status'>;
  /** Registers what is read at scrape time rather than counted (sockets, the outbox). */
  observe(sources: ObservedSources): void;
}

/** Values read when Prometheus scrapes, so they can never drift from the truth. */
interface ObservedSources {
  readonly sockets?: () => { readonly sockets: number; readonly subscriptions: number };
  /** `oldestPendingAt` as an ISO string, as `/readyz` shows it. */
  readonly outbox?: () => Promise<{ readonly pending: number; readonly failed: number; readonly oldestPendingAt: string | null }>;
  /** When this instance's sweeper last completed a sweep. */
  readonly lastSweepAt?: () => Date | null;
  readonly now?: () => Date;
}

/** Request latency buckets in seconds: token checks are sub-millisecond, mutations a few ms, a slow database much more. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'api_tokens_' });
  const registers = [registry];
  const sweeps = new Counter({
    name: 'api_tokens_sweeps_total',
    help: 'Expiry sweeps by outcome (ok, failed).',
    labelNames: ['outcome'] as const,
    registers,
  });
  let sources: ObservedSources = {};

  new Gauge({
    name: 'api_tokens_websocket_sockets',
    help: 'Open graphql-ws sockets on this instance.',
    registers,
    collect() {
      this.set(sources.sockets?.().sockets ?? 0);
    },
  });
  new Gauge({
    name: 'api_tokens_live_subscriptions',
    help: 'Live GraphQL subscriptions on this instance.',
    registers,
    collect() {
      this.set(sources.sockets?.().subscriptions ?? 0);
    },
  });
  // The three outbox gauges come from one read per scrape. Each collects for
  // itself: prom-client reads a gauge without `collect` before later gauges'
  // collects have run, so one set from a neighbour's `collect` showed the
  // previous scrape's value (0 on the first).
  let outboxRead: ReturnType<NonNullable<ObservedSources['outbox']>> | null = null;
  const readOutbox = () => {
    if (!sources.outbox) return Promise.resolve(null);
    outboxRead ??= sources.outbox().finally(() => (outboxRead = null));
    return outboxRead;
  };
  new Gauge({
    name: 'api_tokens_outbox_pending',
    help: 'Emails waiting in the outbox (all instances).',
    registers,
    async collect() {
      const outbox = await readOutbox();
      if (outbox) this.set(outbox.pending);
    },
  });
  new Gauge({
    name: 'api_tokens_outbox_failed',
    help: 'Emails given up on (status FAILED).',
    registers,
    async collect() {
      const outbox = await readOutbox();
      if (outbox) this.set(outbox.failed);
    },
  });
  new Gauge({
    name: 'api_tokens_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest pending email; 0 when none is pending.',
    registers,
    async collect() {
      const outbox = await readOutbox();
      if (!outbox) return;
      const now = (sources.now?.() ?? new Date()).getTime();
      this.set(outbox.oldestPendingAt ? Math.max(0, (now - Date.parse(outbox.oldestPendingAt)) / 1000) : 0);
    },
  });
  const sweepLag = new Gauge({
    name: 'api_tokens_sweep_lag_seconds',
    help: 'Seconds since the last completed expiry sweep on this instance.',
    registers,
    collect() {
      const last = sources.lastSweepAt?.();
      if (last) this.set(((sources.now?.() ?? new Date()).getTime() - last.getTime()) / 1000);
    },
  });

  return {
    registry,
    requests: new Counter({
      name: 'api_tokens_http_requests_total',
      help: 'HTTP requests by operation (GraphQL operation name, or route) and outcome (ok, client_error, server_error).',
      labelNames: ['operation', 'outcome'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'api_tokens_http_request_duration_seconds',
      help: 'HTTP request latency by operation and outcome.',
      labelNames: ['operation', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    authentications: new Counter({
      name: 'api_tokens_authentications_total',
      help: 'Credential checks by credential kind (api_token, session, scim_token, introspection_client, metrics_token, none) and result (the outcome: ok, malformed, unknown, expired, revoked, disabled, user_inactive; or error).',
      labelNames: ['kind', 'result'] as const,
      registers,
    }),
    eventsPublished: new Counter({
      name: 'api_tokens_events_published_total',
      help: 'Token events published to the event hub, by kind.',
      labelNames: ['kind'] as const,
      registers,
    }),
    eventPublishFailures: new Counter({
      name: 'api_tokens_event_publish_failures_total',
      help: 'Token events Redis did not accept.',
      registers,
    }),
    sweeps,
    sweepLag,
    tokensExpired: new Counter({ name: 'api_tokens_tokens_expired_total', help: 'Tokens deleted by the sweeper at expiry.', registers }),
    expiryWarnings: new Counter({ name: 'api_tokens_expiry_warnings_total', help: 'Expiry warnings sent by the sweeper.', registers }),
    mailDeliveries: new Counter({
      name: 'api_tokens_mail_deliveries_total',
      help: 'Email delivery attempts by outcome (sent, retry, failed).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    scimOperations: new Counter({
      name: 'api_tokens_scim_operations_total',
      help: 'SCIM requests by resource, method and status.',
      labelNames: ['resource', 'method', 'status'] as const,
      registers,
    }),
    observe(next) {
      sources = { ...sources, ...next };
    },
  };
}
