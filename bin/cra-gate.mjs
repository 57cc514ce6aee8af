#!/usr/bin/env node
// The `cra-gate` command (offline CLI): see docs/cli.md. Checks the Node.js version first (bin/launch.mjs).
import { launch } from './launch.mjs';

await launch('cra-gate', 'operator/cli/main');
