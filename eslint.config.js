// @ts-check
import tseslint from 'typescript-eslint';

/**
 * typescript-eslint's strict, type-checked rules, plus the habits this
 * codebase holds to: `import type` for types, no floating promises, no
 * unused code. `npm run lint` runs it with zero warnings allowed.
 */
export default tseslint.config(
  { ignores: ['dist/**', 'dist-test/**', 'node_modules/**', 'data/**', 'coverage/**', 'web/dist/**'] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `() => void work()` and `(x) => list.push(x)` read fine; a void value used as one is still caught.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // Fastify handlers and plugins and Apollo plugin hooks are async by contract; one without await is fine.
      '@typescript-eslint/require-await': 'off',
      // type-graphql object types are classes that resolvers answer with plain objects, by design.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
    },
  },
  {
    // Tests assert on what they just checked exists; `!` there reads better than a guard.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `afterAll(() => t?.stop())` guards against a beforeAll that failed, whatever the declared type says.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // vitest's asymmetric matchers (`expect.any`, `expect.arrayContaining`) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-dynamic-delete': 'off',
      // ws hands messages over as Buffers; String(data) is their text.
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    // MikroORM's migrator writes `async up()`; migrations stay as generated.
    files: ['migrations/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
