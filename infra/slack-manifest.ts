/**
 * The Slack app manifest (bot/slack-app-manifest.yaml) with the bot's real request URL
 * in place of its placeholder: the stack output `slackAppManifest`, to paste at
 * api.slack.com/apps (Create New App → From an app manifest, or the app's App Manifest page).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const MANIFEST_FILE = path.resolve(__dirname, '../bot/slack-app-manifest.yaml');
/** The placeholder the template holds wherever the request URL goes. */
export const PLACEHOLDER_URL = 'https://REPLACE-WITH-THE-BOT-REQUEST-URL/slack/events';

/**
 * The manifest with every request URL set to `requestUrl` (the bot's Function URL; Bolt
 * answers on any path, the manifest keeps /slack/events) and the template's
 * instructions to edit it replaced by where it came from.
 */
export function renderSlackManifest(requestUrl: string, stack: string, template = readFileSync(MANIFEST_FILE, 'utf8')): string {
  if (!template.includes(PLACEHOLDER_URL)) throw new Error(`${MANIFEST_FILE} no longer holds the placeholder ${PLACEHOLDER_URL}`);
  const url = new URL('slack/events', requestUrl.endsWith('/') ? requestUrl : `${requestUrl}/`).toString();
  const body = template
    .replace(/^(#.*\n)+/, '')
    .split(PLACEHOLDER_URL)
    .join(url);
  return `# The BenchSight Slack app of stack ${stack}, rendered by pulumi up (stack output slackAppManifest).\n# Paste it at api.slack.com/apps: Create New App → From an app manifest, or the app's App Manifest page.\n${body}`;
}
