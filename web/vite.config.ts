import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { precompress } from './precompress.js';

// The profile page: built into dist/web, which the service serves at `/` (src/http/web.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  plugins: [precompress()],
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // One small script: no module preload polyfill, which would be an extra inline script.
    modulePreload: false,
    // Files, never data: URLs: the page's CSP allows images from this origin only.
    assetsInlineLimit: 0,
    target: 'es2022',
  },
});
