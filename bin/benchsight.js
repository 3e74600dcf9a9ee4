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
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`benchsight: ${err?.message ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
