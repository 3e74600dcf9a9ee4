/**
 * Posts a load's outcome to a Slack channel (chat.postMessage) when one is configured.
 * The API base URL can point at a local stand-in (tests); the token is never logged.
 */
export interface SlackNotifier {
  post(text: string): Promise<void>;
}

export function slackNotifier(opts: { token: string; channel: string; apiUrl?: string; fetchImpl?: typeof fetch }): SlackNotifier {
  const base = (opts.apiUrl ?? 'https://slack.com/api/').replace(/\/?$/, '/');
  const doFetch = opts.fetchImpl ?? fetch;
  return {
    async post(text: string) {
      const r = await doFetch(`${base}chat.postMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${opts.token}` },
        body: JSON.stringify({
          channel: opts.channel,
          text,
          blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '```' + text.slice(0, 2900) + '```' } }],
        }),
      });
      const body = (await r.json().catch(() => ({}))) as { ok?: boolean; error?: string };
      if (!r.ok || body.ok === false) throw new Error(`Slack chat.postMessage failed: ${body.error ?? r.status}`);
    },
  };
}
