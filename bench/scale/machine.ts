import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';

/** What the whole machine did while some work ran: how busy its cores were, and how often a task waited for one. */
export interface MachineLoad {
  /** Cores busy on average (user, nice, system, interrupts, steal), of `availableParallelism()`. */
  readonly busyCores: number;
  /** Share of the time at least one runnable task waited for a core (Linux PSI `some`); null where the kernel does not say. */
  readonly waiting: number | null;
}

interface Sample {
  readonly busy: number;
  readonly total: number;
  readonly stalledUs: number | null;
  readonly at: number;
}

async function sample(): Promise<Sample> {
  const [cpu = ''] = (await readFile('/proc/stat', 'utf8')).split('\n');
  // user nice system idle iowait irq softirq steal
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = cpu
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const pressure = await readFile('/proc/pressure/cpu', 'utf8').catch(() => null);
  const stalled = pressure ? /^some .*total=(\d+)/m.exec(pressure) : null;
  return {
    busy: user + nice + system + irq + softirq + steal,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
    stalledUs: stalled ? Number(stalled[1]) : null,
    at: performance.now(),
  };
}

/** Runs `work` and says how loaded the machine was meanwhile (Linux only). */
export async function onMachine<T>(work: () => Promise<T>): Promise<{ readonly result: T; readonly load: MachineLoad }> {
  const before = await sample();
  const result = await work();
  const after = await sample();
  const waiting =
    before.stalledUs !== null && after.stalledUs !== null ? (after.stalledUs - before.stalledUs) / 1000 / (after.at - before.at) : null;
  return {
    result,
    load: { busyCores: ((after.busy - before.busy) / Math.max(after.total - before.total, 1)) * availableParallelism(), waiting },
  };
}

export function describeLoad({ busyCores, waiting }: MachineLoad): string {
  return `machine ${busyCores.toFixed(2)} cores busy${waiting === null ? '' : `, a task waiting for a core ${(waiting * 100).toFixed(0)}% of the time`}`;
}
