// `npm test`: the static checks and the test suite, at the same time.
//
// The suite leaves a core idle for much of its run (its tests wait on their
// servers, on timers and on the browser), and the checks are one process at a
// time: run one after the other beside vitest, they finish inside its run
// instead of before it. Vitest's output streams as it comes; each check's is
// printed when it ends, and the command fails if anything failed.
// Arguments go to vitest: `npm test -- test/auth` runs the checks and those files.
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';

const CACHE = 'node_modules/.cache';
const CHECKS = [
  ['tsc', '-p', 'tsconfig.json', '--noEmit', '--incremental', '--tsBuildInfoFile', `${CACHE}/tsc/test.tsbuildinfo`],
  ['tsc', '-p', 'web/tsconfig.json', '--noEmit', '--incremental', '--tsBuildInfoFile', `${CACHE}/tsc/web.tsbuildinfo`],
  ['eslint', '.', '--max-warnings=0', '--cache', '--cache-location', `${CACHE}/eslint/`],
  ['prettier', '--check', '.', '--log-level', 'warn', '--cache', '--cache-location', `${CACHE}/prettier/.prettier-cache`],
  ['knip'],
];

/** Runs a command from node_modules/.bin (npm puts it on PATH); resolves its exit code. */
function run(command, args, stdio, { background = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio });
    // The checks take the cores the tests leave idle, never the ones a test is waiting on.
    if (background && child.pid !== undefined) lowerPriority(child.pid);
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve({ code: 127, output: `${command}: ${error.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

function lowerPriority(pid) {
  try {
    setPriority(pid, 15);
  } catch {
    // Not allowed here, or already gone: it runs at the normal priority.
  }
}

async function checks() {
  let failed = 0;
  for (const [command, ...args] of CHECKS) {
    const started = performance.now();
    const { code, output } = await run(command, args, ['ignore', 'pipe', 'pipe'], { background: true });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(`${code === 0 ? 'check passed' : 'CHECK FAILED'}: ${[command, ...args].join(' ')} (${seconds} s)\n${output}`);
    if (code !== 0) failed++;
  }
  return failed;
}

const [failedChecks, suite] = await Promise.all([checks(), run('vitest', ['run', ...process.argv.slice(2)], 'inherit')]);
if (failedChecks > 0) process.stdout.write(`\n${failedChecks} of ${CHECKS.length} static checks failed (see CHECK FAILED above)\n`);
process.exitCode = failedChecks > 0 ? 1 : suite.code;
