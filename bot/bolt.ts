/** The bot's one way to @slack/bolt. */
export { App, AwsLambdaReceiver, HTTPReceiver, LogLevel, webApi } from '@slack/bolt';
export type { BlockButtonAction, Receiver, SlashCommand, types } from '@slack/bolt';
