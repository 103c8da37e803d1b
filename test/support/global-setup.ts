import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFile, type Options } from '@swc/core';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { TEST_BUILD_DIR, TEST_WEB_DIR } from './test-build.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** When this run began (ms since the epoch), before anything was built. */
    runStartedAt: number;
  }
}

/**
 * Builds once per run, before any test file starts, the two at once, into the
 * suite's own folder (`dist-test/`, never the `dist/` that `npm start` serves):
 * - the service, so the tests that run it or a CLI as a developer does
 *   (`npm start`, `npm run -s session`, with BUILD_DIR pointing here) find an
 *   up-to-date build instead of each compiling the project;
 * - the profile page, so the browser tests load exactly the files the service serves.
 */
export default async function buildOnce(project: TestProject): Promise<void> {
  project.provide('runStartedAt', Date.now());
  await Promise.all([
    transpileService().then(() => {
      // scripts/run-built.mjs, which the CLI tests run, builds again (with tsc, saying so on stderr) when a
      // source is newer than this file's time: writing it marks the build current.
      writeFileSync(join(TEST_BUILD_DIR, '.tsbuildinfo'), '{}');
    }),
    build({
      configFile: new URL('../../web/vite.config.ts', import.meta.url).pathname,
      logLevel: 'error',
      build: { outDir: TEST_WEB_DIR, emptyOutDir: true },
    }),
  ]);
}

/**
 * The service's TypeScript as JavaScript, file by file, with SWC: what vitest
 * runs in-process, the same transform (see vitest.config.ts), for the tests
 * that run it as a process. tsc took 5-7 CPU-s of a cold run here, before any
 * test could start, to type-check what the `tsc --noEmit` check checks again;
 * SWC takes a tenth of a second. `npm run build` still builds with tsc.
 */
async function transpileService(): Promise<void> {
  const options: Options = {
    // What tsconfig.json asks of tsc, as unplugin-swc derives it for vitest: legacy decorators with
    // their metadata (type-graphql, MikroORM), class fields assigned, not defined, and class names kept.
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      target: 'es2022',
      keepClassNames: true,
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    },
    module: { type: 'es6' },
    sourceMaps: true,
    swcrc: false,
    configFile: false,
  };
  // Written afresh each run: a source deleted since (a migration, say) must not live on in the build.
  for (const dir of ['src', 'migrations']) rmSync(join(TEST_BUILD_DIR, dir), { recursive: true, force: true });
  const sources = ['src', 'migrations'].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => join(dir, file)),
  );
  await Promise.all(
    sources.map(async (source) => {
      const out = join(TEST_BUILD_DIR, source.replace(/\.ts$/, '.js'));
      const { code, map } = await transformFile(join(ROOT, source), {
        ...options,
        // The map's `sources` entry, relative to the output, as tsc writes it.
        sourceFileName: relative(dirname(out), join(ROOT, source)),
      });
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, `${code}\n//# sourceMappingURL=${basename(out)}.map\n`);
      if (map) writeFileSync(`${out}.map`, map);
    }),
  );
}
