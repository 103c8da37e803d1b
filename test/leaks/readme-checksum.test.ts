import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createTokenSecret } from '../../src/tokens/token-format.js';

/** The README tells scanner vendors how to check our checksum: that code must agree with ours. */
describe('the checksum as the README documents it', () => {
  it('accepts every token the service issues and refuses one with a changed character', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## When a token leaks'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    const pattern = /```\n(.*)\n```/.exec(section)?.[1];
    const module = (await import(`data:text/javascript,${encodeURIComponent(code ?? '')}`)) as {
      isOurToken: (candidate: string) => boolean;
    };
    for (let i = 0; i < 200; i++) {
      const { secret } = createTokenSecret();
      expect(module.isOurToken(secret)).toBe(true);
      expect(new RegExp(pattern ?? '$^').test(`export API_TOKEN=${secret} # oops`)).toBe(true);
      const flipped = secret.slice(0, 10) + (secret[10] === 'a' ? 'b' : 'a') + secret.slice(11);
      expect(module.isOurToken(flipped)).toBe(false);
    }
  });
});
