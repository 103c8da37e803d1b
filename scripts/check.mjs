// `npm run check` (and `npm test`'s first check): `npm run typecheck` and `npm run lint` in one
// process, over one TypeScript program per tsconfig. ESLint's typed rules ask the checker that has
// just checked every file instead of building a second program of the same 2,200 files: from a cold
// cache 23 CPU-s here against 33 for the two commands. Prints what tsc and ESLint would, and fails
// when either finds anything (ESLint: any warning too, as `npm run lint`).
//
// Both keep their caches under node_modules/.cache: tsc's build info (only what changed is checked
// again) and ESLint's (only changed files are linted). A project none of whose files has changed
// since it last checked clean is not even parsed (1.1 CPU-s for a run that changed nothing, against
// 5.4), as `tsc --build` skips a project that is up to date; ESLint builds the programs only when
// it has a file to lint.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ESLint } from 'eslint';
import ts from 'typescript';

const CACHE = 'node_modules/.cache';

/** One tsconfig: checked when something in it changed, or when ESLint needs its program. */
class Project {
  /** @type {ts.Program | undefined} */
  #program;

  constructor(configPath, buildInfo) {
    this.configPath = configPath;
    /** What this project's last clean check read: see `#stamp`. */
    this.cleanFile = `${buildInfo}.clean.json`;
    /** @type {ts.Diagnostic[]} */
    this.diagnostics = [];
    this.config = ts.getParsedCommandLineOfConfigFile(
      configPath,
      { noEmit: true, incremental: true, tsBuildInfoFile: buildInfo },
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (diagnostic) => this.diagnostics.push(diagnostic) },
    );
  }

  /** Whether no file the last clean check read has changed since, nor the root files, the options or the lock file. */
  unchanged() {
    try {
      const clean = JSON.parse(readFileSync(this.cleanFile, 'utf8'));
      return this.config !== undefined && clean.stamp === this.#stamp(clean.files);
    } catch {
      return false;
    }
  }

  /** What `tsc -p <config> --noEmit --incremental` would, once; the program it checked. */
  program() {
    if (this.#program || !this.config) return this.#program;
    const builder = ts.createIncrementalProgram({
      rootNames: this.config.fileNames,
      options: this.config.options,
      projectReferences: this.config.projectReferences,
      configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(this.config),
    });
    // As tsc: the semantic diagnostics only when the files parsed.
    const diagnostics = [
      ...builder.getConfigFileParsingDiagnostics(),
      ...builder.getOptionsDiagnostics(),
      ...builder.getGlobalDiagnostics(),
      ...builder.getSyntacticDiagnostics(),
    ];
    if (diagnostics.length === 0) diagnostics.push(...builder.getSemanticDiagnostics());
    // With noEmit, this writes the build info alone: the next check of a change checks only what changed.
    builder.emit();
    this.#program = builder.getProgram();
    this.diagnostics.push(...diagnostics);
    if (diagnostics.length === 0) {
      const files = this.#program.getSourceFiles().map((file) => file.fileName);
      writeFileSync(this.cleanFile, JSON.stringify({ stamp: this.#stamp(files), files }));
    }
    return this.#program;
  }

  /** A digest of the files' contents (13.6 MB, 40 ms), the root files, the options, TypeScript's version and the lock file. */
  #stamp(files) {
    const hash = createHash('sha256').update(ts.version).update(JSON.stringify(this.config.options));
    hash.update(JSON.stringify([...this.config.fileNames].sort()));
    for (const file of ['package-lock.json', ...files]) {
      hash.update(`\0${file}\0`);
      hash.update(existsSync(file) ? readFileSync(file) : '\0missing');
    }
    return hash.digest('hex');
  }
}

const projects = [
  new Project('tsconfig.json', `${CACHE}/tsc/test.tsbuildinfo`),
  new Project('web/tsconfig.json', `${CACHE}/tsc/web.tsbuildinfo`),
];
for (const project of projects) {
  if (project.unchanged()) process.stdout.write(`${project.configPath}: no file changed since its last clean type check\n`);
  else project.program();
}

/**
 * The programs, built when typescript-eslint first reads them (when ESLint has a file to lint, not
 * when every file is in its cache). ESLint hashes its config for that cache, reading the array's
 * `meta`, `name` and `toJSON` only: they go in as their tsconfigs' names.
 */
const programs = new Proxy([], {
  get(built, key) {
    if (key === 'toJSON') return () => projects.map((project) => project.configPath);
    const read = key === 'length' || key === Symbol.iterator || (typeof key === 'string' && /^\d+$/.test(key)) || key in Array.prototype;
    if (read && built.length === 0) built.push(...projects.map((project) => project.program()).filter(Boolean));
    return Reflect.get(built, key);
  },
});
const eslint = new ESLint({
  cache: true,
  // Its own cache: `npm run lint` hashes a different config, and each would invalidate the other's entries.
  cacheLocation: `${CACHE}/eslint-check/`,
  overrideConfig: {
    files: ['**/*.{ts,mts,cts,tsx}'],
    languageOptions: { parserOptions: { projectService: false, programs } },
  },
});
const results = await eslint.lintFiles(['.']);

let failed = false;
const host = { getCanonicalFileName: (name) => name, getCurrentDirectory: ts.sys.getCurrentDirectory, getNewLine: () => ts.sys.newLine };
// In colour on a terminal, as tsc does.
const format = process.stdout.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics;
for (const { diagnostics } of projects) {
  if (diagnostics.length === 0) continue;
  failed = true;
  process.stdout.write(format(diagnostics, host));
}
if (results.some((result) => result.errorCount + result.warningCount > 0)) {
  failed = true;
  process.stdout.write(await (await eslint.loadFormatter('stylish')).format(results));
}
process.exitCode = failed ? 1 : 0;
