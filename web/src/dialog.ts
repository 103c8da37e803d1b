import { h, uniqueId, type Child } from './dom.js';

export interface DialogAction {
  readonly label: string;
  readonly kind?: 'primary' | 'danger' | 'secondary';
  /** Runs on click; resolve to keep the dialog open (e.g. after an error it shows), or it closes. */
  readonly onClick?: (dialog: HTMLDialogElement) => unknown;
}

export interface DialogOptions {
  readonly title: string;
  readonly body: readonly Child[];
  readonly actions: readonly DialogAction[];
  /** Index in `actions` of the button that gets focus; default: the last one (the safe choice). */
  readonly focus?: number;
  /** Restores focus here if the opener was re-rendered away meanwhile. */
  readonly fallbackFocus: () => HTMLElement | null;
  readonly onClose?: () => void;
}

/**
 * A native modal `<dialog>`: the browser traps focus in it and closes it on
 * Esc. On close it is removed from the document (with whatever it held, such
 * as a new secret) and focus goes back to where it was.
 */
export function openDialog(options: DialogOptions): HTMLDialogElement {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = uniqueId('dialog-title');
  const buttons = options.actions.map((action) =>
    h('button', { type: 'button', class: `button ${action.kind ?? 'secondary'}` }, action.label),
  );
  const dialog = h(
    'dialog',
    { 'aria-labelledby': titleId, class: 'dialog' },
    h('h2', { id: titleId }, options.title),
    ...options.body,
    h('div', { class: 'actions' }, ...buttons),
  );
  const run = async (action: DialogAction | undefined): Promise<void> => {
    if (!action?.onClick) {
      dialog.close();
      return;
    }
    buttons.forEach((b) => (b.disabled = true));
    try {
      if ((await action.onClick(dialog)) !== 'keep') dialog.close();
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  };
  buttons.forEach((button, index) => {
    const action = options.actions[index];
    button.addEventListener('click', () => void run(action));
  });
  dialog.addEventListener('close', () => {
    dialog.remove();
    const target = opener?.isConnected ? opener : options.fallbackFocus();
    target?.focus();
    // After focus is back, so a dialog opened from here keeps the focus it takes.
    options.onClose?.();
  });
  document.body.append(dialog);
  dialog.showModal();
  buttons[options.focus ?? buttons.length - 1]?.focus();
  return dialog;
}
