import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A development secret kept in `<dataDir>/<name>` (mode 0600): created once by
 * `create`, then read back by every process, so the server and the CLIs
 * agree. Never used in production, where config requires real secrets.
 */
export function devSecret(dataDir: string, name: string, create: () => string): { file: string; value: string } {
  const file = join(dataDir, name);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, create(), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process (server or CLI) created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(file, 0o600);
  return { file, value: readFileSync(file, 'utf8').trim() };
}
