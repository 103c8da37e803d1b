import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** The profile page gets the strict policy; only the explorer gets what its editor needs. */
describe('Content-Security-Policy', () => {
  let t: TestApp;
  let origin = '';
  beforeAll(async () => {
    t = await startTestApp();
    origin = new URL(t.url).origin;
  });
  afterAll(async () => {
    await t?.stop();
  });

  const cspOf = async (path: string, accept = 'text/html') => {
    const res = await fetch(`${origin}${path}`, { headers: { accept } });
    // Read to the end: a cancelled body leaves the response in flight, and the
    // server's close then waits its whole grace (10 s) for it.
    await res.arrayBuffer();
    return res.headers.get('content-security-policy') ?? '';
  };

  it('is strict on the profile page and its files: no inline styles, no data: images or fonts', async () => {
    for (const path of ['/', '/index.html', '/nothing-here']) {
      const csp = await cspOf(path);
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("style-src 'self';");
      expect(csp, path).toContain("img-src 'self';");
      expect(csp, path).toContain("font-src 'self';");
      expect(csp, path).not.toContain('unsafe-inline');
      expect(csp, path).not.toContain('data:');
    }
  });

  it("relaxes only the explorer's page and files", async () => {
    for (const path of ['/graphql', '/explorer/graphiql.css']) {
      const csp = await cspOf(path);
      expect(csp, path).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp, path).toContain("img-src 'self' data:");
      expect(csp, path).toContain("script-src 'self';");
    }
  });
});
