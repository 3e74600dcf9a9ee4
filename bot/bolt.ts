/** The bot's one way to @slack/bolt. */
export { App, AwsLambdaReceiver, HTTPReceiver, LogLevel, webApi } from '@slack/bolt';
export type { BlockButtonAction, ButtonAction, Receiver, SlashCommand, types } from '@slack/bolt';
