import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CloseCode } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import { CLOSE_CODES, OWN_CLOSE_CODE_RANGE } from '../../src/close-codes.js';

const root = new URL('../..', import.meta.url).pathname;

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The codes graphql-ws defines, and what the service reuses with graphql-ws's meaning. */
const graphqlWsCodes = new Set(Object.values(CloseCode).filter((value): value is number => typeof value === 'number'));
const REUSED: Partial<Record<keyof typeof CLOSE_CODES, number>> = {
  BAD_REQUEST: CloseCode.BadRequest,
  UNAUTHORIZED: CloseCode.Unauthorized,
  FORBIDDEN: CloseCode.Forbidden,
  CONNECTION_INIT_TIMEOUT: CloseCode.ConnectionInitialisationTimeout,
  INTERNAL_SERVER_ERROR: CloseCode.InternalServerError,
};

describe('the close-code table', () => {
  it("keeps the service's own codes in its own range, clear of every graphql-ws code", () => {
    expect([...graphqlWsCodes].filter((code) => code >= OWN_CLOSE_CODE_RANGE.first && code <= OWN_CLOSE_CODE_RANGE.last)).toEqual([]);
    for (const [name, code] of Object.entries(CLOSE_CODES)) {
      const reused = REUSED[name as keyof typeof CLOSE_CODES];
      if (reused !== undefined) expect(code, name).toBe(reused);
      else if (code >= 4000) {
        expect(code, name).toBeGreaterThanOrEqual(OWN_CLOSE_CODE_RANGE.first);
        expect(code, name).toBeLessThanOrEqual(OWN_CLOSE_CODE_RANGE.last);
        expect(graphqlWsCodes.has(code), name).toBe(false);
      }
    }
    // The rate-limit close is no longer graphql-ws's TooManyInitialisationRequests, which its client treats as fatal.
    expect(CLOSE_CODES.TOO_MANY_FAILED_AUTHENTICATIONS).not.toBe(CloseCode.TooManyInitialisationRequests);
    expect(new Set(Object.values(CLOSE_CODES)).size).toBe(Object.keys(CLOSE_CODES).length);
  });

  it('is the only place in src/ and web/src where a close code is written as a number', () => {
    const codes = [...new Set([...Object.values(CLOSE_CODES), ...graphqlWsCodes])].join('|');
    const bare = new RegExp(`\\b(${codes})\\b`);
    const offenders = [...sources(join(root, 'src')), ...sources(join(root, 'web/src'))]
      .filter((path) => !path.endsWith('src/close-codes.ts'))
      .flatMap((path) =>
        readFileSync(path, 'utf8')
          .split('\n')
          .map((line, index) => ({ where: `${path.slice(root.length)}:${index + 1}`, line }))
          .filter(({ line }) => bare.test(line)),
      );
    expect(offenders).toEqual([]);
  });

  it('is the table the README documents', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const [name, code] of Object.entries(CLOSE_CODES)) {
      expect(readme, name).toMatch(new RegExp(`\\| \`${code}\` \\| \`${name}\` \\|`));
    }
  });
});
