#!/usr/bin/env node
// Launcher: the CLI is compiled to dist/ by `npm run build` (run by `npm install` through the prepare script).
import { run } from '../dist/src/cli/main.js';

await run(process.argv);
