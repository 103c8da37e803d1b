import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** The message exactly as it crossed the wire. */
  readonly raw: string;
  readonly parsed: ParsedMail;
  /** RCPT TO addresses. */
  readonly envelopeTo: readonly string[];
}

/**
 * A real SMTP server in the test process. `refuseData` makes it read each
 * message and then answer with that 4xx reply, as a server that is
 * temporarily failing (or a send whose outcome the client cannot know).
 */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  /** Messages read and then refused with `refuseData`. */
  readonly refused: ReceivedMail[] = [];
  refuseData: string | null = null;
  private server: SMTPServer | null = null;

  private constructor(public port: number) {}

  /** Starts on `port`, or on a free one. */
  static async start(port = 0): Promise<SmtpSink> {
    const sink = new SmtpSink(port);
    await sink.listen();
    return sink;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.server !== null;
  }

  /** Starts listening again on the same port after `stop()`. */
  async listen(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      closeTimeout: 1_000,
      disableReverseLookup: true,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
          void simpleParser(raw).then((parsed) => {
            const refusal = this.refuseData;
            if (refusal) {
              this.refused.push({ raw, parsed, envelopeTo });
              const error = Object.assign(new Error(refusal.slice(4)), { responseCode: Number(refusal.slice(0, 3)) });
              callback(error);
              return;
            }
            this.received.push({ raw, parsed, envelopeTo });
            callback();
          }, callback);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const net = server.listen(this.port, '127.0.0.1', () => {
        const address = net.address();
        if (address && typeof address === 'object') this.port = address.port;
        resolve();
      });
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  to(address: string): ReceivedMail[] {
    return this.received.filter((m) => m.envelopeTo.includes(address));
  }
}

/** Every place a secret could hide in a message: the wire form, its unfolded quoted-printable, and the decoded parts. */
export function secretLeaks(mail: ReceivedMail, secret: string): string[] {
  const haystacks = [
    mail.raw,
    mail.raw.replace(/=\r?\n/g, ''),
    mail.parsed.text ?? '',
    typeof mail.parsed.html === 'string' ? mail.parsed.html : '',
    mail.parsed.subject ?? '',
    mail.parsed.headerLines.map((h) => h.line).join('\n'),
  ];
  // The whole secret, and a stretch of its random body that the hint never shows.
  const needles = [secret, secret.slice(4, 24)];
  return haystacks.flatMap((hay, i) => needles.filter((n) => hay.includes(n)).map((n) => `haystack ${i} contains ${n.slice(0, 8)}…`));
}
