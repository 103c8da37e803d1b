import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';

export interface ScanningKeysOptions {
  /** An `https://` URL (GitHub's is https://api.github.com/meta/public_keys/secret_scanning) or a file path. */
  readonly source: string;
  readonly logger: Logger;
  /**
   * An unknown key identifier refetches the document at most this often, so a
   * flood of made-up identifiers costs one fetch per interval, not one each.
   * @default 60_000
   */
  readonly refetchIntervalMs?: number;
  /**
   * Known keys are re-read after this long even when every identifier is
   * known, so a key GitHub withdraws stops being trusted.
   * @default 3_600_000
   */
  readonly maxAgeMs?: number;
  /**
   * How long one fetch of the document may take.
   * @default 5_000
   */
  readonly fetchTimeoutMs?: number;
  readonly now?: () => number;
}

/**
 * The public keys a secret scanner signs its alerts with, in GitHub's key
 * document format `{"public_keys":[{"key_identifier","key","is_current"}]}`.
 * Read when first needed and cached; read again when a signature names an
 * identifier the cache lacks (bounded by `refetchIntervalMs`) or the cache is
 * older than `maxAgeMs`. Every key the document lists is kept, current or
 * not, since alerts signed with the previous key arrive during a rotation;
 * a key no longer listed is dropped at the next read. A failed read keeps the
 * keys already known.
 */
export class ScanningKeys {
  private keys = new Map<string, KeyObject>();
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: ScanningKeysOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether `signature` (base64 DER ECDSA over SHA-256) signs `body` with the key `identifier`. */
  async verify(identifier: string, signature: string, body: Buffer): Promise<boolean> {
    const key = await this.key(identifier);
    if (!key) return false;
    const der = Buffer.from(signature, 'base64');
    if (der.length === 0) return false;
    try {
      return verify('sha256', body, { key, dsaEncoding: 'der' }, der);
    } catch {
      // A signature that is not DER at all is as wrong as one that does not match.
      return false;
    }
  }

  private async key(identifier: string): Promise<KeyObject | null> {
    // A read under way may bring this very key: wait for it rather than judge by the old cache.
    if (this.reading) await this.reading;
    const age = this.now() - this.readAt;
    const known = this.keys.get(identifier);
    if (known && age < (this.options.maxAgeMs ?? 3_600_000)) return known;
    if (age >= (this.options.refetchIntervalMs ?? 60_000)) await this.read();
    return this.keys.get(identifier) ?? null;
  }

  /** One read at a time; callers during a read wait for it. */
  private read(): Promise<void> {
    this.reading ??= this.load().finally(() => (this.reading = null));
    return this.reading;
  }

  private async load(): Promise<void> {
    this.readAt = this.now();
    try {
      this.keys = parseKeyDocument(await this.fetchDocument());
    } catch (error) {
      this.options.logger.warn({ err: error, source: this.options.source }, 'could not read the secret scanning keys');
    }
  }

  private async fetchDocument(): Promise<unknown> {
    const { source, fetchTimeoutMs = 5_000 } = this.options;
    if (!source.startsWith('https://')) return JSON.parse(await readFile(source, 'utf8')) as unknown;
    const response = await fetch(source, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(fetchTimeoutMs),
    });
    if (!response.ok) throw new Error(`the key document answered ${response.status}`);
    return await response.json();
  }
}

/** The keys of a key document; throws when it is not one, so the keys known before stay. */
function parseKeyDocument(document: unknown): Map<string, KeyObject> {
  const entries = (document as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(entries)) throw new Error('the key document has no public_keys list');
  const keys = new Map<string, KeyObject>();
  for (const entry of entries as unknown[]) {
    const { key_identifier: id, key } = (entry ?? {}) as { key_identifier?: unknown; key?: unknown };
    if (typeof id !== 'string' || typeof key !== 'string') continue;
    const parsed = publicKey(key);
    // Only ECDSA P-256 keys verify these signatures; anything else in the document is ignored.
    if (parsed?.asymmetricKeyType === 'ec' && parsed.asymmetricKeyDetails?.namedCurve === 'prime256v1') keys.set(id, parsed);
  }
  return keys;
}

/** A PEM public key; null when it is not one (one bad entry does not spoil the rest of the document). */
function publicKey(pem: string): KeyObject | null {
  try {
    return createPublicKey(pem);
  } catch {
    return null;
  }
}
