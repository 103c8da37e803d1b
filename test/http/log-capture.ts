import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** Every line the service logs, at the most verbose level, for tests that read the logs. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  readonly logger: Logger = pino({ level: 'trace' }, this);

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    done();
  }

  /** Lines at error level or above (pino: error 50, fatal 60). */
  errors(): string[] {
    return this.lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
  }
}
