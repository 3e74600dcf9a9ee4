#!/usr/bin/env node
// The `benchsight` command: runs the TypeScript CLI through tsx (no build step).
require('tsx/cjs');
const { main } = require('../loader/cli/main.ts');
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`benchsight: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
