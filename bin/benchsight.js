#!/usr/bin/env node
// The `benchsight` command: runs the TypeScript CLI through tsx (no build step). tsx hooks
// both require() and import(): the CLI imports a command's modules when it runs it.
// Node 20 is this package's runtime; the AWS SDK's notice about its future needs is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
import('tsx/esm/api')
  .then(({ register }) => {
    register();
    return require('../loader/entry/cli.ts').main(process.argv.slice(2));
  })
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
