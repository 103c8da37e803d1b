import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The top-level folder of src/ a file is in; files directly in src/ are the shared kernel, not a folder. */
function folderOf(path: string): string | null {
  const parts = relative(SRC, path).split(sep);
  return parts.length > 1 ? parts[0]! : null;
}

/** Every relative import and re-export of each file, type-only ones included, as folder → folder edges. */
function folderEdges(): Set<string> {
  const edges = new Set<string>();
  const importPattern =
    /(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  for (const file of filesUnder(SRC)) {
    const from = folderOf(file);
    if (from === null) continue;
    for (const match of readFileSync(file, 'utf8').matchAll(importPattern)) {
      const target = resolve(dirname(file), (match[1] ?? match[2])!);
      const to = folderOf(target);
      if (to !== null && to !== from) edges.add(`${from} -> ${to}`);
    }
  }
  return edges;
}

describe('layering', () => {
  it('has no two src/ folders importing each other, type-only imports included', () => {
    const edges = folderEdges();
    const mutual = [...edges]
      .map((edge) => edge.split(' -> ') as [string, string])
      .filter(([a, b]) => a < b && edges.has(`${b} -> ${a}`))
      .map(([a, b]) => `${a} <-> ${b}`)
      .sort();
    expect(mutual).toEqual([]);
  });
});
