import { build } from 'vite';

/**
 * Builds the profile page once per test run, into dist/web: the browser tests
 * then load exactly the files the service serves after `npm run build`.
 */
export default async function setup(): Promise<void> {
  await build({ configFile: new URL('../../web/vite.config.ts', import.meta.url).pathname, logLevel: 'error' });
}
