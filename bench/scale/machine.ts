import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';

/** What the whole machine did while some work ran: how busy its cores were, and how often a task waited for one. */
export interface MachineLoad {
  /** Cores busy on average (user, nice, system, interrupts, steal), of `availableParallelism()`. */
  readonly busyCores: number;
  /** Share of the time at least one runnable task waited for a core (Linux PSI `some`); null where the kernel does not say. */
  readonly waiting: number | null;
  /** Share of the time at least one task waited for the disk (Linux PSI `some` for I/O); null where the kernel does not say. */
  readonly waitingForDisk: number | null;
}

interface Sample {
  readonly busy: number;
  readonly total: number;
  readonly stalledUs: number | null;
  readonly diskStalledUs: number | null;
  readonly at: number;
}

/** The `some` total (microseconds) of a Linux pressure file, e.g. `/proc/pressure/cpu`; null where there is none. */
async function pressureOf(file: string): Promise<number | null> {
  const pressure = await readFile(file, 'utf8').catch(() => null);
  const stalled = pressure ? /^some .*total=(\d+)/m.exec(pressure) : null;
  return stalled ? Number(stalled[1]) : null;
}

async function sample(): Promise<Sample> {
  const [cpu = ''] = (await readFile('/proc/stat', 'utf8')).split('\n');
  // user nice system idle iowait irq softirq steal
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = cpu
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return {
    busy: user + nice + system + irq + softirq + steal,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
    stalledUs: await pressureOf('/proc/pressure/cpu'),
    diskStalledUs: await pressureOf('/proc/pressure/io'),
    at: performance.now(),
  };
}

/** Runs `work` and says how loaded the machine was meanwhile (Linux only). */
export async function onMachine<T>(work: () => Promise<T>): Promise<{ readonly result: T; readonly load: MachineLoad }> {
  const before = await sample();
  const result = await work();
  const after = await sample();
  const share = (was: number | null, is: number | null) =>
    was !== null && is !== null ? (is - was) / 1000 / (after.at - before.at) : null;
  return {
    result,
    load: {
      busyCores: ((after.busy - before.busy) / Math.max(after.total - before.total, 1)) * availableParallelism(),
      waiting: share(before.stalledUs, after.stalledUs),
      waitingForDisk: share(before.diskStalledUs, after.diskStalledUs),
    },
  };
}

export function describeLoad({ busyCores, waiting, waitingForDisk }: MachineLoad): string {
  const percent = (share: number) => `${(share * 100).toFixed(0)}%`;
  return [
    `machine ${busyCores.toFixed(2)} cores busy`,
    ...(waiting === null ? [] : [`a task waiting for a core ${percent(waiting)} of the time`]),
    ...(waitingForDisk === null ? [] : [`for the disk ${percent(waitingForDisk)}`]),
  ].join(', ');
}

/** CPU ticks (1/100 s) of each process named `name` (e.g. `postgres`), all its threads included, by pid. */
async function ticksOfProcesses(name: string): Promise<Map<string, number>> {
  const ticks = new Map<string, number>();
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (!stat || stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== name) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks.set(pid, Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

/**
 * The ticks the processes of `after` spent since `before`: a process started
 * meanwhile counts whole; one that ended meanwhile (a closed connection's
 * backend) is not there to ask, and its last ticks are missed.
 */
export function ticksSince(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): number {
  let ticks = 0;
  for (const [pid, now] of after) ticks += now - (before.get(pid) ?? 0);
  return ticks;
}

interface ThreadTime {
  /** CPU ticks (1/100 s). */
  readonly ticks: number;
  /** Nanoseconds it was ready to run but waited for a core (`/proc/<pid>/task/<tid>/schedstat`); 0 where the kernel does not say. */
  readonly waitedNs: number;
}

/**
 * The CPU time of each thread of process `pid`, and how long it waited for a
 * core, by thread name, threads of one name together (V8's four helpers are
 * all `V8Worker`; Node names its worker threads `WorkerThread`).
 */
async function timeByThread(pid: number): Promise<Map<string, ThreadTime>> {
  const threads = new Map<string, ThreadTime>();
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => null);
    if (!stat) continue;
    const schedstat = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const was = threads.get(name) ?? { ticks: 0, waitedNs: 0 };
    threads.set(name, {
      ticks: was.ticks + Number(fields[11]) + Number(fields[12]),
      waitedNs: was.waitedNs + (Number(schedstat.split(' ')[1]) || 0),
    });
  }
  return threads;
}

/**
 * Runs `work` and says where the cores went meanwhile: PostgreSQL's processes,
 * and each thread of the servers named (`MainThread` answers requests), with
 * the share of the time each thread was ready to run and waited for a core.
 */
export async function coresOf<T>(
  servers: Readonly<Record<string, number>>,
  work: () => Promise<T>,
): Promise<{ readonly result: T; readonly cores: string }> {
  const read = async () => ({
    postgres: await ticksOfProcesses('postgres'),
    threads: await Promise.all(Object.values(servers).map(timeByThread)),
    at: performance.now(),
  });
  const before = await read();
  const result = await work();
  const after = await read();
  const seconds = (after.at - before.at) / 1000;
  const share = (ticks: number) => (ticks / 100 / seconds).toFixed(2);
  const parts = [`PostgreSQL ${share(ticksSince(before.postgres, after.postgres))}`];
  Object.keys(servers).forEach((label, i) => {
    const was = before.threads[i] ?? new Map<string, ThreadTime>();
    const threads = [...(after.threads[i] ?? new Map<string, ThreadTime>())]
      .map(([name, time]) => {
        const earlier = was.get(name) ?? { ticks: 0, waitedNs: 0 };
        return { name, ticks: time.ticks - earlier.ticks, waited: (time.waitedNs - earlier.waitedNs) / 1e9 / seconds };
      })
      .filter(({ ticks }) => ticks > 0)
      .sort((a, b) => b.ticks - a.ticks)
      .map(
        ({ name, ticks, waited }) =>
          `${name} ${share(ticks)}${waited >= 0.005 ? ` (waited for a core ${(waited * 100).toFixed(0)}% of the time)` : ''}`,
      );
    parts.push(`${label}: ${threads.join(', ') || 'idle'}`);
  });
  return { result, cores: parts.join('; ') };
}

/**
 * Starts `loops` processes that each keep a core busy for `share` of every
 * 10 ms (1: always), at normal priority; the function returned stops them.
 */
export function busyLoops(loops: number, share: number): () => void {
  const busyMs = 10 * share;
  const code = `for (;;) { const end = performance.now() + ${busyMs}; while (performance.now() < end); ${
    share < 1 ? `Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${10 - busyMs});` : ''
  } }`;
  const children = Array.from({ length: loops }, () => spawn(process.execPath, ['-e', code], { stdio: 'ignore' }));
  return () => children.forEach((child) => child.kill('SIGKILL'));
}
