import type { AuditEvent } from '../audit/audit-event.entity.js';
import { formatTime, renderHtml, renderText, type Block, type MailContent } from './render.js';

export type { MailContent } from './render.js';

/** The audit facts a message is written from. The secret is not among them, by construction. */
export type MailEvent = Pick<
  AuditEvent,
  | 'action'
  | 'occurredAt'
  | 'actorKind'
  | 'actorUserId'
  | 'actorLabel'
  | 'subjectUserId'
  | 'tokenHint'
  | 'tokenExpiresAt'
  | 'threshold'
  | 'daysLeft'
  | 'region'
  | 'reason'
>;

export interface Recipient {
  readonly email: string;
  readonly name: string;
}

export interface TemplateConfig {
  /** The profile page, where the user revokes and generates tokens. */
  readonly appUrl: string;
}

const FOOTER: Block = {
  kind: 'paragraph',
  text: "This is an automated message from the API token service. A token's secret is never sent by email.",
};

/** The email that reports `event` to its user, or null when the event is not one users are mailed about. */
export function renderMail(event: MailEvent, to: Recipient, config: TemplateConfig): MailContent | null {
  const message = compose(event, config.appUrl);
  if (!message) return null;
  const blocks: Block[] = [{ kind: 'paragraph', text: `Hi ${to.name},` }, ...message.blocks, FOOTER];
  return { subject: message.subject, text: renderText(blocks), html: renderHtml(message.subject, blocks) };
}

function compose(event: MailEvent, appUrl: string): { subject: string; blocks: Block[] } | null {
  const hint = event.tokenHint ?? 'your token';
  const at = formatTime(event.occurredAt);
  const by = describeActor(event);
  const reason: [string, string][] = event.reason ? [['Reason', event.reason]] : [];
  switch (event.action) {
    case 'GENERATED':
      return {
        subject: 'Your API token was created',
        blocks: [
          { kind: 'paragraph', text: 'A new API token was created for your account.' },
          facts([
            ['Token', hint],
            ['Created', at],
            ['Expires', event.tokenExpiresAt ? formatTime(event.tokenExpiresAt) : 'unknown'],
            ['Region', event.region],
            ['Created by', by],
          ]),
          { kind: 'paragraph', text: 'Its secret was shown once, when it was created, and cannot be shown again.' },
          { kind: 'link', text: "If this wasn't you, revoke it now:", url: appUrl },
        ],
      };
    case 'REVOKED':
      if (event.actorKind === 'leak') return leaked(event, hint, at, appUrl);
      return {
        subject: 'Your API token was revoked',
        blocks: [
          { kind: 'paragraph', text: `Your API token ${hint} has been revoked.` },
          facts([['Token', hint], ['Revoked', at], ['Revoked by', by], ...reason]),
          {
            kind: 'paragraph',
            strong: true,
            text: 'This cannot be undone: the token no longer works in any region.',
          },
          ...revokedNote(event),
          { kind: 'link', text: 'To keep using the API, generate a new token on your profile page:', url: appUrl },
        ],
      };
    case 'EXPIRY_WARNING': {
      const days = event.daysLeft ?? 0;
      const left = days === 1 ? '1 day' : `${days} days`;
      const expires = event.tokenExpiresAt ? formatTime(event.tokenExpiresAt) : 'soon';
      return {
        subject: `Your API token expires in ${left}`,
        blocks: [
          { kind: 'paragraph', text: `Your API token ${hint} expires in ${left}, at ${expires}.` },
          facts([
            ['Token', hint],
            ['Expires', expires],
            ['Days left', String(days)],
          ]),
          { kind: 'paragraph', text: 'From then on it stops working in every region and is deleted.' },
          { kind: 'link', text: 'Regenerate it before then, and update whatever uses it:', url: appUrl },
        ],
      };
    }
    case 'EXPIRED':
      return {
        subject: 'Your API token has expired',
        blocks: [
          {
            kind: 'paragraph',
            text: `Your API token ${hint} reached the end of its lifetime and has been deleted. It no longer works in any region.`,
          },
          facts([
            ['Token', hint],
            ['Expired', event.tokenExpiresAt ? formatTime(event.tokenExpiresAt) : at],
          ]),
          { kind: 'link', text: 'To keep using the API, generate a new token on your profile page:', url: appUrl },
        ],
      };
    case 'ACCESS_DISABLED':
      return {
        subject: 'API tokens were turned off for your account',
        blocks: [
          { kind: 'paragraph', text: `API tokens were turned off for your account by ${by}.` },
          facts([['When', at], ['By', by], ...reason]),
          {
            kind: 'paragraph',
            text: 'Any token you had has been revoked, and no new token can be created until API tokens are turned back on.',
          },
          { kind: 'paragraph', text: 'If you think this is a mistake, contact your support team.' },
        ],
      };
    case 'ACCESS_ENABLED':
      return {
        subject: 'API tokens were turned back on for your account',
        blocks: [
          { kind: 'paragraph', text: `API tokens were turned back on for your account by ${by}.` },
          facts([['When', at], ['By', by], ...reason]),
          { kind: 'link', text: 'You can generate a new token on your profile page:', url: appUrl },
        ],
      };
    default:
      return null;
  }
}

/**
 * A token revoked because it was found in public (a secret scanner's report,
 * whose reason says where) or reported as exposed by whoever found it.
 */
function leaked(event: MailEvent, hint: string, at: string, appUrl: string): { subject: string; blocks: Block[] } {
  return {
    subject: 'Your API token was exposed and has been revoked',
    blocks: [
      {
        kind: 'paragraph',
        text: `Your API token ${hint} was reported as exposed in public, so it has been revoked before anyone could use it.`,
      },
      facts([
        ['Token', hint],
        ['Revoked', at],
        ['Found', event.reason ?? 'reported as exposed'],
      ]),
      {
        kind: 'paragraph',
        strong: true,
        text: 'Remove it from where it was found, and from anything that still uses it: it no longer works in any region.',
      },
      { kind: 'link', text: 'Make a new token on your profile page, and keep it out of code, logs and chats:', url: appUrl },
    ],
  };
}

function facts(rows: readonly (readonly [string, string])[]): Block {
  return { kind: 'facts', rows };
}

/** Who did it, in the words the recipient needs to judge whether it was expected. */
function describeActor(event: Pick<MailEvent, 'actorKind' | 'actorUserId' | 'actorLabel' | 'subjectUserId'>): string {
  switch (event.actorKind) {
    case 'token':
      return 'a request made with the token itself';
    case 'system':
      return 'the service';
    case 'scim':
      return 'your organisation’s identity provider (directory sync)';
    case 'leak':
      return 'the service, because the token was reported as exposed';
    case 'session':
      return event.actorUserId !== null && event.actorUserId === event.subjectUserId
        ? `you (signed in as ${event.actorLabel})`
        : `${event.actorLabel} (support or an administrator)`;
  }
}

function revokedNote(event: MailEvent): Block[] {
  if (event.actorKind === 'session' && event.actorUserId === event.subjectUserId) {
    return [{ kind: 'paragraph', text: 'If you regenerated your token, this is expected: a separate email describes the new one.' }];
  }
  if (event.actorKind === 'token') {
    return [
      {
        kind: 'paragraph',
        text: 'If you did not send that request, someone else may have had your token; generating a new one is safe, as the old one is gone.',
      },
    ];
  }
  return [{ kind: 'paragraph', text: 'If you did not expect this, contact your support team.' }];
}
