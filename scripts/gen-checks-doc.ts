/**
 * Generates docs/checks.md, the check catalogue, from the check definitions (operator/checks) — the same
 * source `cra-gate checks` and `cra-gate explain` print from.
 *
 *   node scripts/gen-checks-doc.ts           # rewrite docs/checks.md
 *   node scripts/gen-checks-doc.ts --check   # exit 1 when docs/checks.md is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChecksDoc } from '../operator/cli/catalogue.ts';

export const OUTPUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'checks.md');
export const REGENERATE = 'node scripts/gen-checks-doc.ts';

export function generateChecksDoc(): string {
  return renderChecksDoc();
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1] === fileURLToPath(import.meta.url)) {
  const fresh = generateChecksDoc();
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(OUTPUT, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (committed !== fresh) {
      process.stderr.write(`docs/checks.md is stale; run \`${REGENERATE}\`\n`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(OUTPUT, fresh);
    process.stdout.write(`wrote ${path.relative(process.cwd(), OUTPUT)}\n`);
  }
}
