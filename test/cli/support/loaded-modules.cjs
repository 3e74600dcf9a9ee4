// Preloaded (node -r) by test/cli/program.test.ts: on exit, prints which heavy packages
// the process loaded, as one JSON line on stderr.
process.on('exit', () => {
  const heavy = ['@aws-sdk', '@slack/bolt', 'node_modules/pg/', 's3rver', 'pino', 'cli-table3', 'loader/generate/'];
  const loaded = Object.keys(require.cache);
  process.stderr.write(`LOADED ${JSON.stringify(heavy.filter((h) => loaded.some((k) => k.includes(h))))}\n`);
});
