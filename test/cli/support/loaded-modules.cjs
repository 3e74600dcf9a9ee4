// Preloaded (node -r) by test/cli/program.test.ts: on exit, prints which heavy packages
// the process loaded, as one JSON line on stderr. A package counts as loaded when it is in
// require.cache or in a chunk of the compiled CLI that ran (dist/cli/build.json says which
// sources and packages each chunk holds; each chunk records itself when it runs).
const { readFileSync } = require('node:fs');
const path = require('node:path');

process.on('exit', () => {
  const heavy = ['@aws-sdk', '@slack/bolt', 'node_modules/pg/', 's3rver', 'pino', 'cli-table3', 'loader/generate/', 'loader/db/', 'loader/etl/'];
  const chunks = (globalThis.__benchsightChunks ?? []).map((u) => path.basename(new URL(u).pathname));
  let outputs = {};
  try {
    outputs = JSON.parse(readFileSync(path.resolve(__dirname, '../../../dist/cli/build.json'), 'utf8')).outputs;
  } catch {
    /* not the compiled CLI */
  }
  const loaded = [...Object.keys(require.cache), ...chunks.flatMap((c) => (outputs[c] ?? []).map((i) => `${i}/`))];
  process.stderr.write(`LOADED ${JSON.stringify(heavy.filter((h) => loaded.some((k) => k.includes(h))))}\n`);
  process.stderr.write(`CHUNKS ${chunks.length}\n`);
});
