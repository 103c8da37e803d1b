import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { percentile } from '../load/harness.js';

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
}

/** CPU time (user + system) the process has used so far, in clock ticks of 10 ms. */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function post(agent: Agent, base: URL, each: DrivenRequest): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(
      new URL(each.path, base),
      { method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(each.body), ...each.headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(each.body);
  });
}

/**
 * A closed loop of `workers` clients on keep-alive connections for `ms`: each
 * sends `next()`'s request as soon as its previous one answered. Unlike a
 * load tool replaying one list per connection, every request takes the next
 * item of one shared sequence, so a cycle of distinct credentials longer than
 * the server's cache is a cycle of misses.
 */
export async function drive(
  server: { readonly url: string; readonly pid: number },
  next: () => DrivenRequest,
  check: (body: string) => boolean,
  options: { readonly workers?: number; readonly ms?: number; readonly until?: () => boolean } = {},
): Promise<Drive> {
  const { workers = 16, ms = 5_000, until } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: workers });
  const base = new URL(server.url);
  const latencies: number[] = [];
  let failures = 0;
  const failed: string[] = [];
  const fail = (what: string) => {
    failures++;
    if (failed.length < 3) failed.push(what);
  };
  const started = performance.now();
  const before = await cpuTicks(server.pid);
  const done = () => (until ? until() : performance.now() - started >= ms);
  try {
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (!done()) {
          const sent = performance.now();
          try {
            const answer = await post(agent, base, next());
            if (answer.status !== 200 || !check(answer.body)) fail(`${answer.status} ${answer.body.slice(0, 200)}`);
          } catch (error) {
            fail(String(error));
          }
          latencies.push(performance.now() - sent);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = ((await cpuTicks(server.pid)) - before) / 100;
  return {
    requests: latencies.length,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    perCpuSecond: latencies.length / Math.max(cpuSeconds, 0.01),
    failures,
    failed,
  };
}

/**
 * An open loop of `rps` requests a second, each sent at its time whether the
 * ones before answered or not (so a stalled server shows in the latencies
 * instead of slowing the load), for `ms` or `until` it says so.
 */
export async function pace(
  server: { readonly url: string; readonly pid: number },
  next: () => DrivenRequest,
  check: (body: string) => boolean,
  options: { readonly rps: number; readonly ms?: number; readonly until?: () => boolean },
): Promise<Drive> {
  const { rps, ms = 5_000, until } = options;
  // Within the default HTTP_MAX_CONNECTIONS_PER_ADDRESS (64), with room for the connections a closing socket still holds.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const base = new URL(server.url);
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  let failures = 0;
  const failed: string[] = [];
  const fail = (what: string) => {
    failures++;
    if (failed.length < 3) failed.push(what);
  };
  const started = performance.now();
  const before = await cpuTicks(server.pid);
  const done = () => (until ? until() : performance.now() - started >= ms);
  try {
    for (let sent = 0; !done(); sent++) {
      const due = started + (sent * 1000) / rps;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      pending.push(
        post(agent, base, next()).then(
          (answer) => {
            if (answer.status !== 200 || !check(answer.body)) fail(`${answer.status} ${answer.body.slice(0, 200)}`);
            latencies.push(performance.now() - due);
          },
          (error: unknown) => {
            fail(String(error));
            latencies.push(performance.now() - due);
          },
        ),
      );
    }
    await Promise.all(pending);
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = ((await cpuTicks(server.pid)) - before) / 100;
  return {
    requests: latencies.length,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    perCpuSecond: latencies.length / Math.max(cpuSeconds, 0.01),
    failures,
    failed,
  };
}

/** `next` for a cycle through `items`, one after the other, shared by every worker. */
export function cycle<T>(items: readonly T[]): () => T {
  let i = 0;
  return () => items[i++ % items.length] as T;
}
