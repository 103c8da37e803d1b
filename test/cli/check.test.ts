import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHECK = fileURLToPath(new URL('../../scripts/check.mjs', import.meta.url));

/** `node scripts/check.mjs` in `cwd`: its exit code and what it printed. */
function check(cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CHECK], { cwd }, (error, stdout, stderr) => {
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: stdout + stderr });
    });
  });
}

const TSCONFIG = JSON.stringify({
  compilerOptions: { strict: true, target: 'ES2022', lib: ['ES2022'], module: 'node16', types: [] },
  include: ['src'],
});

/**
 * scripts/check.mjs, npm test's type check and lint (`npm run check`), on a project of two files
 * per tsconfig as the repository has them (the service's and the page's): it must fail on either
 * kind of mistake, and must never take a failed check for a clean one it may skip.
 */
describe('npm run check', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'api-tokens-check-'));
    await mkdir(join(dir, 'src'));
    await mkdir(join(dir, 'web', 'src'), { recursive: true });
    await writeFile(join(dir, 'tsconfig.json'), TSCONFIG);
    await writeFile(join(dir, 'web', 'tsconfig.json'), TSCONFIG);
    // The repository's typescript-eslint, by its path: this folder has no node_modules of its own.
    const tseslint = pathToFileURL(createRequire(import.meta.url).resolve('typescript-eslint')).href;
    await writeFile(
      join(dir, 'eslint.config.js'),
      `import tseslint from '${tseslint}';\nexport default tseslint.config({ files: ['**/*.ts'], extends: [tseslint.configs.recommendedTypeChecked] });\n`,
    );
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await writeFile(join(dir, 'src', 'sum.ts'), 'export const sum = (a: number, b: number): number => a + b;\n');
    await writeFile(join(dir, 'web', 'src', 'page.ts'), 'export function load(): number {\n  return 1;\n}\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes a clean project, then skips it while nothing changes', async () => {
    expect(await check(dir)).toEqual({ code: 0, output: '' });
    const again = await check(dir);
    expect(again.code).toBe(0);
    expect(again.output).toBe(
      'tsconfig.json: no file changed since its last clean type check\nweb/tsconfig.json: no file changed since its last clean type check\n',
    );
  });

  it('fails on a type error in one project and a lint error in the other, and again on the next run', async () => {
    await writeFile(join(dir, 'src', 'sum.ts'), 'export const sum = (a: number, b: number): number => `${a + b}`;\n');
    await writeFile(join(dir, 'web', 'src', 'page.ts'), 'export function load(): void {\n  Promise.resolve(1);\n}\n');
    for (let run = 0; run < 2; run++) {
      const { code, output } = await check(dir);
      expect(code).toBe(1);
      expect(output).toContain("src/sum.ts(1,54): error TS2322: Type 'string' is not assignable to type 'number'.");
      expect(output).toContain(join(dir, 'web', 'src', 'page.ts'));
      expect(output).toMatch(/ 2:3 +error +Promises must be awaited.*@typescript-eslint\/no-floating-promises/);
      // The service's project is type-checked again each time: its last check failed. (The page's type-checks clean.)
      expect(output).not.toMatch(/^tsconfig\.json: /m);
    }
  });
});
