#!/usr/bin/env node
/** The `cra-gate` executable (package.json "bin"). See operator/cli/run.ts and docs/cli.md. */
import { processIO } from './io.ts';
import { run } from './run.ts';

const code = await run(process.argv.slice(2), processIO());
process.exitCode = code;
