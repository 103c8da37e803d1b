// Runs a compiled entry point, building first only when a source is newer than
// the last build: `npm run -s session` then answers without starting tsc.
// With --web, the profile page (web/ -> dist/web) is rebuilt the same way.
// BUILD_DIR (default `dist`) is where the build goes and where the entry is
// looked up: the test suite uses its own (`dist-test`), so `npm test` never
// rebuilds the files a running `npm start` serves.
// Usage: node scripts/run-built.mjs [--web] dist/src/cli/session.js [args...]
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const buildDir = resolve(root, process.env.BUILD_DIR || 'dist');
const buildInfo = join(buildDir, '.tsbuildinfo');

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** The newest modification time among these files and everything under these folders. */
function newestSource(paths) {
  let newest = Math.max(...['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) => mtime(join(root, f))));
  for (const path of paths) {
    const full = join(root, path);
    if (!statSync(full).isDirectory()) {
      newest = Math.max(newest, mtime(full));
      continue;
    }
    for (const entry of readdirSync(full, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) newest = Math.max(newest, mtime(join(entry.parentPath ?? entry.path, entry.name)));
    }
  }
  return newest;
}

const withWeb = process.argv[2] === '--web';
const [entry, ...args] = process.argv.slice(withWeb ? 3 : 2);
if (!entry) {
  process.stderr.write('usage: node scripts/run-built.mjs <dist entry> [args...]\n');
  process.exit(2);
}
/** One line on stderr: stdout may be captured (`SESSION=$(npm run -s session …)`). */
function say(message) {
  process.stderr.write(`${message}\n`);
}
const webStale = withWeb && newestSource(['web', 'schema.graphql']) > mtime(join(buildDir, 'web', 'index.html'));
const serviceStale = newestSource(['src', 'migrations']) > mtime(buildInfo);
const started = Date.now();
if (webStale || serviceStale) {
  const what = [serviceStale && 'the service (tsc)', webStale && 'the profile page (vite)'].filter(Boolean).join(' and ');
  say(
    `Building ${what} into ${relative(root, buildDir) || '.'}/, because a source is newer than the last build; a first build takes about 20 s…`,
  );
}
if (webStale) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // Vite's report of each file goes nowhere: the one line above says what happens.
  execFileSync(npm, ['run', '-s', 'build:web', '--', '--outDir', join(buildDir, 'web')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    cwd: root,
  });
}
if (serviceStale) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', buildDir, '--tsBuildInfoFile', buildInfo], {
    stdio: 'inherit',
    cwd: root,
  });
  // tsc leaves the build info alone when nothing changed; mark the build as current anyway.
  const now = new Date();
  utimesSync(buildInfo, now, now);
}
if (webStale || serviceStale) say(`Built in ${((Date.now() - started) / 1000).toFixed(1)} s; starting.`);
// Entries are named as in the default build (`dist/src/…`); run the one in BUILD_DIR.
const entryPath = join(buildDir, relative(join(root, 'dist'), resolve(root, entry)));
// The entry reads its arguments from process.argv as if started directly.
process.argv = [process.argv[0] ?? 'node', entryPath, ...args];
await import(pathToFileURL(entryPath).href);
