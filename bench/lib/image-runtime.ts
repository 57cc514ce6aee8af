/**
 * The image's Node.js runtime settings, read from the Dockerfile (the one place they are written): the node flags
 * of the exec-form ENTRYPOINT (between `node` and the script) and the runtime stage's `ENV` variables. The memory
 * benchmark starts the operator with exactly these, so it measures what a pod runs — no bench-only flags.
 */
import { readFileSync } from 'node:fs';

export interface ImageRuntime {
  /** Node/V8 flags of the ENTRYPOINT, in order. */
  readonly nodeFlags: string[];
  /** ENV of the final stage (KEY=value pairs). */
  readonly env: Record<string, string>;
}

/** Parses a Dockerfile's text (exec-form ENTRYPOINT, `ENV K=V …` lines with optional continuation). Throws when absent. */
export function parseImageRuntime(dockerfile: string): ImageRuntime {
  const lines = dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  // Only the final stage counts: everything after the last FROM.
  const lastFrom = lines.findLastIndex((l) => /^\s*FROM\s/i.test(l));
  const stage = lines.slice(lastFrom + 1);
  const entry = stage.findLast((l) => /^\s*ENTRYPOINT\s/i.test(l));
  if (!entry) throw new Error('Dockerfile: no ENTRYPOINT in the final stage');
  const argv = JSON.parse(entry.replace(/^\s*ENTRYPOINT\s+/i, '')) as unknown;
  if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string') || argv[0] !== 'node') throw new Error('Dockerfile: ENTRYPOINT is not an exec-form ["node", …] array');
  const script = argv.findIndex((a: string, i: number) => i > 0 && !a.startsWith('-'));
  const nodeFlags = (argv as string[]).slice(1, script < 0 ? undefined : script);
  const env: Record<string, string> = {};
  for (const l of stage) {
    const m = /^\s*ENV\s+(.*)$/i.exec(l);
    if (!m) continue;
    for (const pair of m[1]!.trim().split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`Dockerfile: ENV ${pair}: only the KEY=value form is read`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    }
  }
  return { nodeFlags, env };
}

export function readImageRuntime(file: string): ImageRuntime {
  return parseImageRuntime(readFileSync(file, 'utf8'));
}
