import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const CONFIG_SOURCE = readFileSync(new URL('../../src/config.ts', import.meta.url), 'utf8');

/** The variables `loadConfig` reads: the keys of its `EnvSchema` object. */
function configVariables(): string[] {
  const start = CONFIG_SOURCE.indexOf('const EnvSchema = z.object({');
  const end = CONFIG_SOURCE.indexOf('\n});', start);
  if (start === -1 || end === -1) throw new Error('src/config.ts has no EnvSchema object');
  return [...CONFIG_SOURCE.slice(start, end).matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1] ?? '');
}

/**
 * The configuration table as Markdown renders it: the lines from its header
 * while they are table rows. A blank line ends a table; whatever follows is a
 * paragraph of pipes, not rows.
 */
function renderedConfigTable(): { rows: string[]; linesUpToMarker: string[] } {
  const lines = README.slice(README.indexOf('\n## Configuration\n')).split('\n');
  const header = lines.indexOf('| variable | default | meaning |');
  const marker = lines.findIndex((line) => line.startsWith('<!-- Every variable in src/config.ts'));
  if (header === -1 || marker === -1) throw new Error('README.md has no configuration table');
  const rows: string[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line);
  }
  return { rows, linesUpToMarker: lines.slice(header + 2, marker) };
}

describe("README's configuration table", () => {
  it('is one table: every line from its header to its closing comment is a row', () => {
    const { rows, linesUpToMarker } = renderedConfigTable();
    expect(linesUpToMarker.filter((line) => !line.startsWith('|'))).toEqual([]);
    expect(rows).toEqual(linesUpToMarker);
    for (const row of rows) expect(row, row).toMatch(/^\| `[A-Z][A-Z0-9_]+` \| .+ \| .+ \|$/);
  });

  it('has a row for every variable in src/config.ts, and none for a variable it does not read', () => {
    const variables = configVariables();
    expect(variables.length).toBeGreaterThan(30);
    const documented = renderedConfigTable().rows.map((row) => /^\| `([A-Z0-9_]+)` \|/.exec(row)?.[1]);
    expect([...documented].sort()).toEqual([...variables].sort());
  });
});
