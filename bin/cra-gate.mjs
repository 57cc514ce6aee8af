#!/usr/bin/env node
// The `cra-gate` command (offline CLI): see docs/cli.md. Checks the Node.js version first (bin/launch.mjs) and
// keeps compiled code in Node's compile cache (start-up is what a CI step pays).
import { launch } from './launch.mjs';

await launch('cra-gate', 'operator/cli/main', { compileCache: true });
