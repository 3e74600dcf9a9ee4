/**
 * Running a command from the page: the request, and when the API answers 428 (it deletes
 * data) a modal confirmation — "Yes, do it" re-sends it with the token, "Cancel" tells the
 * API so (recorded as refused). Accepted work (202) is handed to the job tracker.
 */
import { useEffect, useRef } from 'preact/hooks';
import { api, type Answer, type Problem } from './api';

export interface Ask {
  description: string;
  resolve(yes: boolean): void;
}

export function ConfirmDialog({ ask }: { ask: Ask | null }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (ask && !d.open) d.showModal();
    if (!ask && d.open) d.close();
  }, [ask]);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onCancel={(e) => (e.preventDefault(), ask?.resolve(false))}>
      {ask && (
        <form method="dialog" onSubmit={(e) => e.preventDefault()}>
          <h2 id="confirm-title">Delete data?</h2>
          <p class="confirm-what">{ask.description}</p>
          <p>This deletes data from the warehouse. Nothing has run yet: it runs only if you say yes.</p>
          <div class="row">
            <button type="button" class="danger" onClick={() => ask.resolve(true)}>
              Yes, do it
            </button>
            <button type="button" autofocus onClick={() => ask.resolve(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}

export type Confirmer = (p: Problem) => Promise<boolean>;

/**
 * Sends a command's request; on 428 asks, then re-sends with the confirmation (in the
 * body, or the query of a DELETE). Returns the final answer, or null when cancelled.
 */
export async function runWithConfirmation(
  path: string,
  o: { method?: string; json?: Record<string, unknown> },
  confirm: Confirmer,
): Promise<Answer | null> {
  const first = await api(path, o);
  if (first.status !== 428 || !first.problem?.confirmation) return first;
  const c = first.problem.confirmation;
  const yes = await confirm(first.problem);
  if (!yes) {
    await api(c.cancel, { method: 'DELETE' });
    return null;
  }
  if ((o.method ?? 'POST') === 'DELETE') return api(`${path}${path.includes('?') ? '&' : '?'}confirmation=${encodeURIComponent(c.token)}`, { method: 'DELETE' });
  return api(path, { ...o, json: { ...(o.json ?? {}), confirmation: c.token } });
}
