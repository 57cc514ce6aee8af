#!/usr/bin/env node
/**
 * The container image's entrypoint: one image, two uses.
 *
 *   docker run <image>                                  → the operator (also `operator [flags]`, or flags alone)
 *   docker run <image> --metrics-bind 0.0.0.0:8080      → the operator with those flags (the Helm chart's args)
 *   docker run --rm -v "$PWD:/data" <image> evaluate /data/release.yaml --output sarif   → the CLI
 *
 * A first argument that is a word other than `operator` is a CLI verb (`evaluate`, `explain`, `checks`, `sbom`,
 * `version`, `help`; `cli <verb>` also works); the CLI rejects unknown verbs with its usage and exit code 2. The
 * chosen entry point is imported in this process, so node stays PID 1 and receives SIGTERM itself.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launch } from './launch.mjs';

/** Which entry point the arguments (without node and the script) select, and the arguments it gets. */
export function dispatch(args) {
  const [first, ...rest] = args;
  if (first === undefined || first.startsWith('-')) return { target: 'operator', args };
  if (first === 'operator') return { target: 'operator', args: rest };
  if (first === 'cli') return { target: 'cli', args: rest };
  return { target: 'cli', args };
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const chosen = dispatch(process.argv.slice(2));
  process.argv.splice(2, process.argv.length - 2, ...chosen.args);
  if (chosen.target === 'operator') await launch('cra-gate-operator', 'operator/main');
  else await launch('cra-gate', 'operator/cli/main');
}
