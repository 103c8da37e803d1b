import { createRequire } from 'node:module';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // esbuild cannot emit decorator metadata; type-graphql and MikroORM need it.
  plugins: [swc.vite({ module: { type: 'es6' }, jsc: { transform: { decoratorMetadata: true, legacyDecorator: true } } })],
  resolve: {
    // Node loads graphql's CommonJS build for Apollo and type-graphql; vite
    // would give our code the ESM build, and two graphql copies disagree on
    // `instanceof GraphQLError` and on schema identity.
    alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }],
  },
  test: {
    setupFiles: ['reflect-metadata'],
    // Builds dist/ (for the tests that run the service and the CLIs) and the page (for the browser tests) once.
    globalSetup: ['test/support/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    // expect.poll waits for something the test cannot be told about; a loaded machine makes that
    // slower, and that must not make it red (the default gives up after 1 s).
    expect: { poll: { timeout: 30_000 } },
    hookTimeout: 30_000,
    pool: 'forks',
    // Most of a test's time is spent waiting on its own server, so three files
    // at once fit this 2-core machine; and a worker keeps its modules between
    // files instead of importing the whole service again for each (each file
    // still starts its own app: nothing under test is shared).
    maxWorkers: 3,
    isolate: false,
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
});
