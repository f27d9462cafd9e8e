/// <reference lib="dom" />
/// <reference lib="dom.iterable" />

/**
 * The custom from/to download form. Without JavaScript it sends the two days as typed (YYYY-MM-DD);
 * with it, the days become the exact UTC window the user means, from the first day's midnight to the
 * midnight after the last day (the last day included), and an inverted window is refused in place.
 */

const DAY_MS = 86_400_000;

export function enhanceCustomDownload(doc: Document): void {
  for (const form of doc.querySelectorAll<HTMLFormElement>('form[data-custom-download]')) {
    form.addEventListener('submit', (event) => {
      const data = new FormData(form);
      const from = Date.parse(`${String(data.get('from'))}T00:00:00Z`);
      const to = Date.parse(`${String(data.get('to'))}T00:00:00Z`);
      if (!Number.isFinite(from) || !Number.isFinite(to)) return;
      event.preventDefault();
      const last = form.querySelector<HTMLInputElement>('input[name="to"]');
      if (to < from) {
        last?.setCustomValidity('The last day is before the first day: pick a later one.');
        last?.reportValidity();
        return;
      }
      last?.setCustomValidity('');
      const submitter = (event as SubmitEvent).submitter;
      const action = submitter instanceof HTMLButtonElement && submitter.formAction ? submitter.formAction : form.action;
      const query = new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to + DAY_MS).toISOString() });
      window.location.assign(`${action}?${query}`);
    });
    form.querySelector('input[name="to"]')?.addEventListener('input', (e) => (e.target as HTMLInputElement).setCustomValidity(''));
  }
}
