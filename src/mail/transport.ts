import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Logger } from 'pino';

/** A message ready to send; built from an outbox row. */
interface OutgoingMail {
  /** `<…@…>`; the same for every attempt at one outbox row. */
  readonly messageId: string;
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** When the message was composed (queued): also the same for every attempt. */
  readonly date: Date;
  /** A file name for transports that write files, unique per outbox row. */
  readonly fileName: string;
}

export interface MailTransport {
  /** `smtp` or `file`, for readiness output and logs. */
  readonly kind: 'smtp' | 'file';
  /** Resolves once the message is accepted; rejects with the transport's error. */
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/**
 * Bounds on one SMTP attempt, so a hung server costs one attempt rather
 * than the worker: nodemailer's defaults allow minutes. Query parameters in
 * SMTP_URL (e.g. `?connectionTimeout=30000`) override them.
 */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/** The longest one send can take, about; the worker's claim on a row must outlast it. */
export const MAX_SEND_MS = SMTP_TIMEOUTS.connectionTimeout + SMTP_TIMEOUTS.greetingTimeout + 2 * SMTP_TIMEOUTS.socketTimeout;

/** SMTP when `smtpUrl` is set; otherwise `.eml` files under `<dataDir>/mail/`. */
export function createMailTransport(options: { smtpUrl: string | null; dataDir: string; logger: Logger }): MailTransport {
  return options.smtpUrl ? smtpTransport(options.smtpUrl) : fileTransport(join(options.dataDir, 'mail'), options.logger);
}

function smtpTransport(url: string): MailTransport {
  // The SMTPTransport constructor merges the URL with the other options; createTransport({ url }) would drop them.
  const transporter = nodemailer.createTransport(new SMTPTransport({ url, ...SMTP_TIMEOUTS }));
  return {
    kind: 'smtp',
    async send(mail) {
      await transporter.sendMail(toNodemailer(mail));
    },
    close: () => transporter.close(),
  };
}

/** Writes what SMTP would have sent, so a developer can open it in any mail client. */
function fileTransport(dir: string, logger: Logger): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const absolute = resolve(dir);
  return {
    kind: 'file',
    async send(mail) {
      const info = await transporter.sendMail(toNodemailer(mail));
      await mkdir(absolute, { recursive: true });
      const file = join(absolute, mail.fileName);
      // Written under a temporary name and renamed, so nobody ever reads half a message.
      const partial = `${file}.partial`;
      await writeFile(partial, info.message as Buffer);
      await rename(partial, file);
      logger.info({ file, to: mail.to, subject: mail.subject }, `mail written to ${file}`);
    },
    close: () => transporter.close(),
  };
}

function toNodemailer(mail: OutgoingMail): nodemailer.SendMailOptions {
  return {
    messageId: mail.messageId,
    date: mail.date,
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    // RFC 3834: tells vacation responders and the like not to reply.
    headers: { 'Auto-Submitted': 'auto-generated' },
  };
}
