import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Sessions from an identity provider that publishes its keys as a JWKS. */
describe('session JWTs verified against SESSION_JWKS_URL', () => {
  let idp: Server;
  let privateKey: CryptoKey;
  let t: TestApp;
  let aliceId: string;

  beforeAll(async () => {
    const keys = await generateKeyPair('RS256');
    privateKey = keys.privateKey;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
    idp = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    const { port } = idp.address() as AddressInfo;
    t = await startTestApp({
      SESSION_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
      SESSION_ISSUER: 'https://idp.example.com',
      SESSION_AUDIENCE: 'api-tokens',
    });
    const alice = await t.running.services.users.findByEmail('alice@example.com');
    aliceId = alice?.id ?? '';
  });
  afterAll(async () => {
    await t?.stop();
    await new Promise((resolve) => idp?.close(resolve));
  });

  function sign(claims: { iss?: string; aud?: string; kid?: string } = {}): Promise<string> {
    return new SignJWT({ email: 'alice@example.com' })
      .setProtectedHeader({ alg: 'RS256', kid: claims.kid ?? 'idp-1' })
      .setSubject(aliceId)
      .setIssuer(claims.iss ?? 'https://idp.example.com')
      .setAudience(claims.aud ?? 'api-tokens')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  }

  it("accepts the provider's session and acts as its subject", async () => {
    const res = await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: await sign() });
    expect(res.status).toBe(200);
    expect(res.body.data?.me.email).toBe('alice@example.com');
  });

  it('refuses a wrong issuer, a wrong audience, an unknown key and a locally signed HS256 session', async () => {
    for (const jwt of [
      await sign({ iss: 'https://evil.example.com' }),
      await sign({ aud: 'someone-else' }),
      await sign({ kid: 'idp-2' }),
      await t.session('alice@example.com'), // HS256 with SESSION_SECRET: not how sessions come now
    ]) {
      const res = await t.gql('{ me { email } }', { auth: jwt });
      expect(res.status).toBe(401);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });
});
