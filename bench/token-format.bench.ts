import { test } from 'vitest';
import { createTokenSecret, digestToken, isWellFormedToken } from '../src/tokens/token-format.js';

const { secret } = createTokenSecret();

test('token format', async ({ bench }) => {
  await bench.compare(
    bench('createTokenSecret', () => {
      createTokenSecret();
    }),
    bench('isWellFormedToken (checksum)', () => {
      if (!isWellFormedToken(secret)) throw new Error('rejected a good token');
    }),
    bench('digestToken (SHA-256)', () => {
      digestToken(secret);
    }),
  );
});
