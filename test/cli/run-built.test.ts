import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** scripts/run-built.mjs, which `npm start` and the CLIs run: it must say what it does while it builds. */
describe('run-built: building before a start', () => {
  let buildDir = '';
  beforeAll(async () => {
    buildDir = await mkdtemp(join(tmpdir(), 'api-tokens-build-'));
    // A service build newer than every source, and no page yet: only the page (Vite, a few seconds) is built.
    await mkdir(join(buildDir, 'src'), { recursive: true });
    await writeFile(join(buildDir, 'src', 'entry.js'), "process.stdout.write('entry ran\\n');\n");
    const future = new Date(Date.now() + 3_600_000);
    await writeFile(join(buildDir, '.tsbuildinfo'), '{}');
    await utimes(join(buildDir, '.tsbuildinfo'), future, future);
  });
  afterAll(async () => {
    await rm(buildDir, { recursive: true, force: true });
  });

  it('says on stderr what it is building and when it is done, and keeps stdout for the entry', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['scripts/run-built.mjs', '--web', 'dist/src/entry.js'], {
      cwd: ROOT,
      env: { ...process.env, BUILD_DIR: buildDir },
    });
    expect(stdout).toBe('entry ran\n');
    expect(stderr).toMatch(
      /^Building the profile page \(vite\) into .+\/, because a source is newer than the last build; a first build takes about 20 s…\n/,
    );
    expect(stderr).toMatch(/\nBuilt in \d+\.\d s; starting\.\n$/);
  }, 60_000);

  it('says nothing when the build is current', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['scripts/run-built.mjs', '--web', 'dist/src/entry.js'], {
      cwd: ROOT,
      env: { ...process.env, BUILD_DIR: buildDir },
    });
    expect(stdout).toBe('entry ran\n');
    expect(stderr).toBe('');
  });
});
