#!/usr/bin/env node
// The `benchsight` command: runs the TypeScript CLI through tsx (no build step).
require('tsx/cjs');
require('../loader/cli/main.ts');
