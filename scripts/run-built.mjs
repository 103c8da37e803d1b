// Runs a compiled entry point, building first only when a source is newer than
// the last build: `npm run -s session` then answers without starting tsc.
// With --web, the profile page (web/ -> dist/web) is rebuilt the same way.
// Usage: node scripts/run-built.mjs [--web] dist/src/cli/session.js [args...]
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const buildInfo = join(root, 'dist', '.tsbuildinfo');

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** The newest modification time among these files and everything under these folders. */
function newestSource(paths) {
  let newest = Math.max(
    ...['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) => mtime(join(root, f))),
  );
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
if (withWeb && newestSource(['web', 'schema.graphql']) > mtime(join(root, 'dist', 'web', 'index.html'))) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['run', '-s', 'build:web'], { stdio: 'inherit', cwd: root });
}
if (newestSource(['src', 'migrations']) > mtime(buildInfo)) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  // tsc leaves the build info alone when nothing changed; mark the build as current anyway.
  const now = new Date();
  utimesSync(buildInfo, now, now);
}
// The entry reads its arguments from process.argv as if started directly.
process.argv = [process.argv[0] ?? 'node', resolve(root, entry), ...args];
await import(pathToFileURL(resolve(root, entry)).href);
