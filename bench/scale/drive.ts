import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { cpuTicks, percentile, post } from '../load/harness.js';

/** One request a driver sends: a POST with its body and headers. */
export interface DrivenRequest {
  readonly path: string;
  readonly body: string;
  readonly headers: Record<string, string>;
}

export interface Drive {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Requests per second of the server's own CPU time: steadier than rps on a shared machine. */
  readonly perCpuSecond: number;
  /** Answers that were not 200 with the body `check` wants: any fails the scenario. */
  readonly failures: number;
  /** The first few failures, as `<status> <body>` (or the transport error). */
  readonly failed: readonly string[];
  /** What the figures above are computed from, so that slices of one scenario can be merged (`merged`). */
  readonly latencies: readonly number[];
  readonly seconds: number;
  readonly cpuSeconds: number;
}

interface Target {
  readonly url: string;
  readonly pid: number;
}

/** What one driven run saw: each request's latency and answer, and the server's CPU time over the run. */
class Run {
  private readonly latencies: number[] = [];
  private readonly failed: string[] = [];
  private failures = 0;
  private readonly started = performance.now();

  private constructor(
    private readonly server: Target,
    private readonly ticksBefore: number,
    readonly agent: Agent,
    private readonly check: (body: string) => boolean,
  ) {}

  static async start(server: Target, maxSockets: number, check: (body: string) => boolean): Promise<Run> {
    return new Run(server, await cpuTicks(server.pid), new Agent({ keepAlive: true, maxSockets }), check);
  }

  elapsedMs(): number {
    return performance.now() - this.started;
  }

  /** Sends one request and records it, its latency counted from `since` (when it was due). */
  async send(each: DrivenRequest, since = performance.now()): Promise<void> {
    try {
      const answer = await post(new URL(each.path, this.server.url).toString(), each.body, each.headers, undefined, this.agent);
      if (answer.status !== 200 || !this.check(answer.body)) this.fail(`${answer.status} ${answer.body.slice(0, 200)}`);
    } catch (error) {
      this.fail(String(error));
    }
    this.latencies.push(performance.now() - since);
  }

  async finish(): Promise<Drive> {
    this.agent.destroy();
    const seconds = this.elapsedMs() / 1000;
    const cpuSeconds = ((await cpuTicks(this.server.pid)) - this.ticksBefore) / 100;
    return figures(this.latencies, seconds, cpuSeconds, this.failures, this.failed);
  }

  private fail(what: string): void {
    this.failures++;
    if (this.failed.length < 3) this.failed.push(what);
  }
}

function figures(latencies: readonly number[], seconds: number, cpuSeconds: number, failures: number, failed: readonly string[]): Drive {
  return {
    requests: latencies.length,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    perCpuSecond: latencies.length / Math.max(cpuSeconds, 0.01),
    failures,
    failed,
    latencies,
    seconds,
    cpuSeconds,
  };
}

/** Several drives of one scenario as one: every latency, and the time and server CPU summed. */
export function merged(drives: readonly Drive[]): Drive {
  const sum = (of: (each: Drive) => number) => drives.reduce((total, each) => total + of(each), 0);
  return figures(
    drives.flatMap((each) => each.latencies),
    sum((each) => each.seconds),
    sum((each) => each.cpuSeconds),
    sum((each) => each.failures),
    drives.flatMap((each) => each.failed).slice(0, 3),
  );
}

/**
 * A closed loop of `workers` clients on keep-alive connections for `ms`: each
 * sends `next()`'s request as soon as its previous one answered. Unlike a
 * load tool replaying one list per connection, every request takes the next
 * item of one shared sequence, so a cycle of distinct credentials longer than
 * the server's cache is a cycle of misses.
 */
export async function drive(
  server: Target,
  next: () => DrivenRequest,
  check: (body: string) => boolean,
  options: { readonly workers?: number; readonly ms?: number } = {},
): Promise<Drive> {
  const { workers = 16, ms = 5_000 } = options;
  const run = await Run.start(server, workers, check);
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (run.elapsedMs() < ms) await run.send(next());
    }),
  );
  return run.finish();
}

/**
 * An open loop of `rps` requests a second, each sent at its time whether the
 * ones before answered or not (so a stalled server shows in the latencies
 * instead of slowing the load), for `ms` or `until` it says so.
 */
export async function pace(
  server: Target,
  next: () => DrivenRequest,
  check: (body: string) => boolean,
  options: { readonly rps: number; readonly ms?: number; readonly until?: () => boolean },
): Promise<Drive> {
  const { rps, ms = 5_000, until } = options;
  // Within the default HTTP_MAX_CONNECTIONS_PER_ADDRESS (64), with room for the connections a closing socket still holds.
  const run = await Run.start(server, 32, check);
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let sent = 0; until ? !until() : run.elapsedMs() < ms; sent++) {
    const due = started + (sent * 1000) / rps;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(run.send(next(), due));
  }
  await Promise.all(pending);
  return run.finish();
}

/** `next` for a cycle through `items`, one after the other, shared by every worker. */
export function cycle<T>(items: readonly T[]): () => T {
  let i = 0;
  return () => items[i++ % items.length] as T;
}
