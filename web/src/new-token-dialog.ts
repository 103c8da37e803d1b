import { openDialog } from './dialog.js';
import { h, uniqueId } from './dom.js';
import type { GeneratedToken } from './operations.js';

/**
 * The New API Token dialog. The secret is in this closure and the dialog's
 * input only: closing the dialog removes both, and it was never cached or stored.
 */
export function showNewToken(generated: GeneratedToken, fallbackFocus: () => HTMLElement | null): void {
  let secret: string | null = generated.secret;
  const inputId = uniqueId('secret');
  const noteId = uniqueId('secret-note');
  const input = h('input', {
    id: inputId,
    type: 'password',
    readonly: true,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': noteId,
    class: 'secret',
  });
  // The property, not the attribute: the secret never appears in the serialised document.
  input.value = secret;
  const copyStatus = h('span', { role: 'status', class: 'copy-status' });
  const toggle = h('button', { type: 'button', class: 'button secondary' }, 'Show token');
  toggle.addEventListener('click', () => {
    const hidden = input.type === 'password';
    input.type = hidden ? 'text' : 'password';
    toggle.textContent = hidden ? 'Hide token' : 'Show token';
  });
  const copy = h('button', { type: 'button', class: 'button primary' }, 'Copy');
  const copyToClipboard = async (): Promise<void> => {
    try {
      if (secret === null) return;
      await navigator.clipboard.writeText(secret);
      copy.textContent = 'Copied';
      copyStatus.textContent = 'Copied to the clipboard.';
    } catch {
      copyStatus.textContent = 'Copying failed: show the token, select it and copy it by hand.';
    }
  };
  copy.addEventListener('click', () => void copyToClipboard());
  openDialog({
    title: 'New API Token',
    body: [
      h(
        'p',
        { id: noteId },
        'For your security, this token is shown only once: you will not be able to see it again after you close this dialog. Store it somewhere safe.',
      ),
      h('label', { for: inputId }, 'Your new API token'),
      h('div', { class: 'secret-row' }, input, toggle, copy),
      copyStatus,
    ],
    actions: [{ label: 'Close' }],
    fallbackFocus,
    onClose: () => {
      secret = null;
      input.value = '';
    },
  });
  copy.focus();
}
