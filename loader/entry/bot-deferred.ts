/**
 * What the bot Lambda loads only when a command first needs it (loader/entry/bot-lambda.ts):
 * the ETL commands and the worker's waker. Kept to these two so that the bundle carries no
 * more of ./context than they need (a dynamic import keeps every export of its module).
 */
export { commandExtensions, workerWakerFromEnv } from './context';
