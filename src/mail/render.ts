/** A message body as a few kinds of blocks, rendered to plain text and to HTML from the same source. */
export type Block =
  | { readonly kind: 'paragraph'; readonly text: string; readonly strong?: boolean }
  | { readonly kind: 'facts'; readonly rows: readonly (readonly [label: string, value: string])[] }
  | { readonly kind: 'link'; readonly text: string; readonly url: string };

export interface MailContent {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/**
 * Escapes text for HTML element content and quoted attribute values. Every
 * interpolated value goes through here: emails, names and reasons are typed
 * by people, and a reason like `<a href=...>` must arrive as text.
 */
function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** An instant as mail shows it: unambiguous for every reader, whatever their time zone. */
export function formatTime(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function renderText(blocks: readonly Block[]): string {
  const parts = blocks.map((block) => {
    switch (block.kind) {
      case 'paragraph':
        return block.text;
      case 'facts': {
        const width = Math.max(...block.rows.map(([label]) => label.length)) + 1;
        return block.rows.map(([label, value]) => `  ${`${label}:`.padEnd(width)} ${value}`).join('\n');
      }
      case 'link':
        return `${block.text}\n  ${block.url}`;
    }
  });
  return `${parts.join('\n\n')}\n`;
}

export function renderHtml(subject: string, blocks: readonly Block[]): string {
  const body = blocks.map((block) => {
    switch (block.kind) {
      case 'paragraph':
        return block.strong ? `<p><strong>${escapeHtml(block.text)}</strong></p>` : `<p>${escapeHtml(block.text)}</p>`;
      case 'facts': {
        const rows = block.rows.map(
          ([label, value]) =>
            `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(label)}</th><td><code>${escapeHtml(value)}</code></td></tr>`,
        );
        return `<table cellpadding="0" cellspacing="0">${rows.join('')}</table>`;
      }
      case 'link':
        return `<p>${escapeHtml(block.text)}<br><a href="${escapeHtml(block.url)}">${escapeHtml(block.url)}</a></p>`;
    }
  });
  return [
    '<!doctype html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family:sans-serif;line-height:1.5;color:#222">',
    ...body,
    '</body></html>',
    '',
  ].join('\n');
}
