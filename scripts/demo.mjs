#!/usr/bin/env node
// `npm run demo`: see README.md (Quickstart). Checks the Node.js version first (bin/launch.mjs).
import { launch } from '../bin/launch.mjs';

await launch('cra-gate demo', 'scripts/demo', { sourceOnly: true });
