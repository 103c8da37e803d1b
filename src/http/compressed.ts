import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

export type Encoding = 'br' | 'gzip';

/** The encoding to send for this Accept-Encoding: brotli, else gzip, else none (`q=0` refuses one). */
export function chooseEncoding(acceptEncoding: string | undefined): Encoding | null {
  const accepted = new Set(
    (acceptEncoding ?? '')
      .split(',')
      .map((part) => part.trim().toLowerCase().split(';'))
      .filter(([, ...params]) => !params.some((param) => /^\s*q=0(?:\.0*)?\s*$/.test(param)))
      .map(([name]) => name?.trim()),
  );
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip')) return 'gzip';
  return null;
}

const compressors: Record<Encoding, (body: string) => Promise<Buffer>> = {
  // Quality 5, not 11: the explorer's 9 MB would take many seconds at the highest level.
  br: (body) => promisify(brotliCompress)(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }),
  gzip: (body) => promisify(gzip)(body, { level: 6 }),
};

/** `body` compressed with `encoding`, off the event loop. */
export function compress(body: string, encoding: Encoding): Promise<Buffer> {
  return compressors[encoding](body);
}

/** Compresses each (name, encoding) once, off the event loop, and keeps the result. */
export function compressedCache(): (name: string, body: string, encoding: Encoding) => Promise<Buffer> {
  const cache = new Map<string, Promise<Buffer>>();
  return (name, body, encoding) => {
    const key = `${encoding}:${name}`;
    let compressed = cache.get(key);
    if (!compressed) {
      compressed = compressors[encoding](body);
      cache.set(key, compressed);
    }
    return compressed;
  };
}
