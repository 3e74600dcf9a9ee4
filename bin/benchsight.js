#!/usr/bin/env -S node --max-semi-space-size=2
// The `benchsight` command: runs the compiled CLI (dist/cli/cli.mjs, built by bin/build-cli.js
// at install, and here again when it is missing or a source changed since: one stat per
// source). No TypeScript compiler at run time; a command loads only its own modules.
// The shebang gives Node a young generation of 2 MB semi-spaces instead of 16: a load streams
// its files through short-lived buffers and strings, and V8 lets the young generation grow to
// its limit before collecting (the real export ×20: peak RSS 105–113 → 91 MB, the same time;
// bench/README.md). `npx benchsight` and `./bin/benchsight.js` run it so; `node bin/...` not.
// Node 20 is this package's runtime; the AWS SDK's notice about its future needs is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// A bug's stack (BENCHSIGHT_DEBUG=1) names the TypeScript sources' lines (dist/cli has source
// maps); only then, as reading the maps would cost every command.
if (process.env.BENCHSIGHT_DEBUG) process.setSourceMapsEnabled(true);
const { pathToFileURL } = require('node:url');
const { ensureBuilt } = require('./build-cli.js');

ensureBuilt()
  .then((entry) => import(pathToFileURL(entry).href))
  .then(({ main }) => main(process.argv.slice(2)))
  .then(
    (code) => exitFlushed(code),
    (err) => {
      process.stderr.write(`benchsight: ${err?.message ? err.message : String(err)}\n`);
      exitFlushed(1);
    },
  );

// Output to a pipe is written asynchronously: exit once stdout and stderr have taken all of
// it (`benchsight etl log 12 | less` gets every line, not the first 64 KB).
function exitFlushed(code) {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
