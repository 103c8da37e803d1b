// `npm test`: the static checks and the test suite, at the same time.
//
// The suite leaves a core idle for much of its run (its tests wait on their
// servers, on timers and on the browser), and the checks are one process at a
// time: run one after the other beside vitest, at a lower priority, they
// finish inside its run instead of before it. When vitest ends first (after
// an edit, ESLint's type-aware lint starts cold), whatever is left runs at the
// normal priority, two checks at once: a starved check must not trail on one
// core after the suite. Vitest's output streams as it comes; each check's is
// printed when it ends, and the command fails if anything failed.
// Arguments go to vitest: `npm test -- test/auth` runs the checks and those files.
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const CACHE = 'node_modules/.cache';
// Node's compile cache for every process this starts: vitest's workers, and the ~40 `npm run`, CLI
// and server processes the tests start, each of which compiles the service again (0.75 CPU-s a CLI
// run without it, 0.6 with it). An absolute path: some of them run in another directory.
process.env.NODE_COMPILE_CACHE ??= resolve(CACHE, 'node-compile');
const CHECKS = [
  // The type check and ESLint's type-aware lint, over one program (npm run check).
  ['node', 'scripts/check.mjs'],
  ['prettier', '--check', '.', '--log-level', 'warn', '--cache', '--cache-location', `${CACHE}/prettier/.prettier-cache`],
  ['knip'],
];

/** The checks running at the lower priority, by process id: raised back to normal when the suite ends. */
const running = new Set();
let suiteRunning = true;

/** Runs a command from node_modules/.bin (npm puts it on PATH); resolves its exit code and output. */
function run(command, args, stdio, { background = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio });
    // While the suite runs, the checks take the cores the tests leave idle, never the ones a test is waiting on.
    if (background && child.pid !== undefined) {
      setNice(child.pid, 15);
      running.add(child.pid);
    }
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve({ code: 127, output: `${command}: ${error.message}\n` }));
    child.on('close', (code, signal) => {
      running.delete(child.pid);
      resolve({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

function setNice(pid, nice) {
  try {
    setPriority(pid, nice);
  } catch {
    // Not allowed here (raising a priority back needs privileges), or already gone: it keeps the one it has.
  }
}

/** Takes checks off `queue` one at a time until none is left; resolves how many failed. */
async function checker(queue) {
  let failed = 0;
  for (let check = queue.shift(); check; check = queue.shift()) {
    const [command, ...args] = check;
    const started = performance.now();
    const { code, output } = await run(command, args, ['ignore', 'pipe', 'pipe'], { background: suiteRunning });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(`${code === 0 ? 'check passed' : 'CHECK FAILED'}: ${[command, ...args].join(' ')} (${seconds} s)\n${output}`);
    if (code !== 0) failed++;
  }
  return failed;
}

const queue = [...CHECKS];
const first = checker(queue);
const suite = await run('vitest', ['run', ...process.argv.slice(2)], 'inherit');
suiteRunning = false;
for (const pid of running) setNice(pid, 0);
const failedChecks = (await Promise.all([first, checker(queue)])).reduce((sum, failed) => sum + failed, 0);
if (failedChecks > 0) process.stdout.write(`\n${failedChecks} of ${CHECKS.length} static checks failed (see CHECK FAILED above)\n`);
process.exitCode = failedChecks > 0 ? 1 : suite.code;
