import { sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanningKeys } from '../../src/leaks/scanning-keys.js';
import { newScanner, writeKeyDocument, type Scanner } from './leak-helpers.js';

const body = Buffer.from('[{"token":"own_x","type":"t","url":"u","source":"content"}]');
const signature = (scanner: Scanner) => sign('sha256', body, { key: scanner.privateKey, dsaEncoding: 'der' }).toString('base64');
const verifies = (keys: ScanningKeys, scanner: Scanner) => keys.verify(scanner.identifier, signature(scanner), body);

describe('the secret scanning key document', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'api-tokens-keys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rereads for an unknown identifier at most once per interval, keeps listed keys and drops withdrawn ones', async () => {
    const [a, b, c] = [newScanner('a'), newScanner('b'), newScanner('c')];
    const path = await writeKeyDocument(dir, [a]);
    let now = 0;
    const keys = new ScanningKeys({ source: path, logger: pino({ level: 'silent' }), refetchIntervalMs: 60_000, now: () => now });

    expect(await verifies(keys, a)).toBe(true);
    // GitHub rotates: b is published. Within the interval, an unknown identifier does not cause a read.
    await writeKeyDocument(dir, [b, a]);
    now = 30_000;
    expect(await verifies(keys, b)).toBe(false);
    now = 61_000;
    expect(await verifies(keys, b)).toBe(true);
    // The previous key stays trusted while it is listed.
    expect(await verifies(keys, a)).toBe(true);

    // A flood of made-up identifiers right after a read costs no read: c, published meanwhile, waits for the interval.
    await writeKeyDocument(dir, [c, b]);
    now = 62_000;
    for (let i = 0; i < 100; i++) expect(await keys.verify(`made-up-${i}`, signature(a), body)).toBe(false);
    expect(await verifies(keys, c)).toBe(false);
    now = 122_000;
    expect(await verifies(keys, c)).toBe(true);
    // a is no longer listed, so it is no longer trusted.
    expect(await verifies(keys, a)).toBe(false);
  });

  it('keeps the keys it knows when the document cannot be read, and refuses a signature that is not DER', async () => {
    const a = newScanner('a');
    const path = await writeKeyDocument(dir, [a], 'flaky.json');
    let now = 0;
    const keys = new ScanningKeys({ source: path, logger: pino({ level: 'silent' }), maxAgeMs: 1_000, now: () => now });
    expect(await verifies(keys, a)).toBe(true);

    await rm(path);
    now = 70_000;
    expect(await verifies(keys, a)).toBe(true);
    expect(await keys.verify('a', 'bm90IERFUg==', body)).toBe(false);
    expect(await keys.verify('a', signature(a), Buffer.from('another body'))).toBe(false);
  });
});
