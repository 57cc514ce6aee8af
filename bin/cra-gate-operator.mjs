#!/usr/bin/env node
// The `cra-gate-operator` command (the Kubernetes operator process): see docs/operations.md.
import { launch } from './launch.mjs';

await launch('cra-gate-operator', 'operator/main');
