/**
 * Posts a load's outcome to a Slack channel (chat.postMessage) when one is configured.
 * The API base URL can point at a local stand-in (tests); the token is never logged.
 */
export interface SlackNotifier {
  post(text: string, opts?: { action?: NotifyAction }): Promise<void>;
}

/**
 * A button under the message. The one there is: a drop the drift policy refused offers
 * the command that applies the evolution and loads it again (`value`, a command of the
 * one grammar); the bot (bot/actions.ts) lets only an admin click it, and asks that
 * admin to confirm before anything runs.
 */
export interface NotifyAction {
  label: string;
  value: string;
}
export const EVOLVE_ACTION = 'benchsight_evolve';

export function slackNotifier(opts: { token: string; channel: string; apiUrl?: string; fetchImpl?: typeof fetch }): SlackNotifier {
  const base = (opts.apiUrl ?? 'https://slack.com/api/').replace(/\/?$/, '/');
  const doFetch = opts.fetchImpl ?? fetch;
  return {
    async post(text: string, o: { action?: NotifyAction } = {}) {
      const r = await doFetch(`${base}chat.postMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${opts.token}` },
        body: JSON.stringify({
          channel: opts.channel,
          text,
          blocks: [
            { type: 'section', text: { type: 'mrkdwn', text: '```' + text.slice(0, 2900) + '```' } },
            ...(o.action
              ? [
                  {
                    type: 'actions',
                    block_id: 'benchsight_drop_actions',
                    elements: [
                      { type: 'button', action_id: EVOLVE_ACTION, style: 'primary', text: { type: 'plain_text', text: o.action.label }, value: o.action.value },
                    ],
                  },
                ]
              : []),
          ],
        }),
      });
      const body = (await r.json().catch(() => ({}))) as { ok?: boolean; error?: string };
      if (!r.ok || body.ok === false) throw new Error(`Slack chat.postMessage failed: ${body.error ?? r.status}`);
    },
  };
}
