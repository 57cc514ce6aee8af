/** Shared helpers for the report formats. */
import { packageVersion } from '../../util/version.ts';
import { checkRegistry } from '../../checks/index.ts';
import type { CheckDefinition } from '../../checks/types.ts';
import type { StatusCheck } from '../../checks/api.ts';
import type { ReleaseOutcome } from '../evaluate.ts';
import { releaseKey, unusableReason } from '../evaluate.ts';
import { unescapePointerSegment } from '../../util/json-pointer.ts';

/** The package version (package.json). */
export function toolVersion(): string {
  return packageVersion();
}

export function checkDefinition(id: string): CheckDefinition | undefined {
  return checkRegistry.get(id);
}

export function key(o: ReleaseOutcome): string {
  return releaseKey(o.release.object);
}

export type Verdict = 'Approved' | 'Blocked' | 'Unusable';

/** The verdict as the exit code sees it: Unusable when the decision is not final (see exitCodeFor). */
export function verdictOf(o: ReleaseOutcome): Verdict {
  if (unusableReason(o) !== undefined) return 'Unusable';
  return o.evaluation.decision === 'Approved' ? 'Approved' : 'Blocked';
}

export function counts(outcomes: readonly ReleaseOutcome[]): Record<Verdict, number> {
  const c: Record<Verdict, number> = { Approved: 0, Blocked: 0, Unusable: 0 };
  for (const o of outcomes) c[verdictOf(o)]++;
  return c;
}

/** The check's outcome class: blocking problem, warning, or fine. */
export function severity(c: StatusCheck): 'block' | 'warn' | 'ok' | 'skip' | 'waived' {
  if (c.result === 'Pass') return 'ok';
  if (c.result === 'Skipped') return 'skip';
  if (c.result === 'Waived') return 'waived';
  return c.enforcement === 'Block' ? 'block' : 'warn';
}

/**
 * The 1-based line, within a YAML document's text, of the node a JSON pointer names (or of its deepest
 * ancestor that exists). Block-style YAML only; flow style and JSON fall back to the document start.
 */
export function locatePointer(text: string, pointer: string): number | undefined {
  if (!pointer.startsWith('/')) return undefined;
  const segments = pointer.slice(1).split('/').map(unescapePointerSegment);
  const lines = text.split('\n');
  const indentOf = (l: string): number => l.length - l.trimStart().length;
  const meaningful = (l: string): boolean => /^\s*[^\s#]/.test(l);
  let from = 0;
  let parentIndent = -1;
  let found: number | undefined;
  for (const seg of segments) {
    let hit: { line: number; indent: number } | undefined;
    if (/^\d+$/.test(seg)) {
      const want = Number(seg);
      let itemIndent: number | undefined;
      let n = -1;
      for (let i = from; i < lines.length; i++) {
        const l = lines[i]!;
        if (!meaningful(l)) continue;
        const ind = indentOf(l);
        if (i > from && ind <= parentIndent && !(ind === parentIndent && l.trimStart().startsWith('- ') && itemIndent === ind)) break;
        const m = /^(\s*)- /.exec(l);
        if (!m) continue;
        if (itemIndent === undefined && ind > parentIndent - 1) itemIndent = ind;
        if (ind !== itemIndent) continue;
        n++;
        if (n === want) {
          hit = { line: i, indent: ind + 1 };
          break;
        }
      }
    } else {
      const esc = seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const re = new RegExp(`^(\\s*)(- )?(["']?)${esc}\\3\\s*:(\\s|$)`);
      for (let i = from; i < lines.length; i++) {
        const l = lines[i]!;
        if (!meaningful(l)) continue;
        const m = re.exec(l);
        const ind = m ? m[1]!.length + (m[2] ? 2 : 0) : indentOf(l);
        if (i > from && !m && ind <= parentIndent) break;
        if (m && ind > parentIndent) {
          hit = { line: i, indent: ind };
          break;
        }
      }
    }
    if (!hit) break;
    found = hit.line;
    from = hit.line;
    parentIndent = hit.indent;
  }
  return found === undefined ? undefined : found + 1;
}

/** The file line of a finding (spec pointers only), else the release document's start line. */
export function lineOf(o: ReleaseOutcome, pointer: string | undefined): number {
  const src = o.release.source;
  if (pointer && (pointer.startsWith('/spec') || pointer.startsWith('/metadata'))) {
    const rel = locatePointer(src.text, pointer);
    if (rel !== undefined) return src.line + rel - 1 - leadingSkipped(src.text);
  }
  return src.line;
}

/** Lines before the first meaningful one in a document's text (the document's recorded start line skips them). */
function leadingSkipped(text: string): number {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => /^\s*[^\s#]/.test(l));
  return Math.max(0, i);
}

/** A Markdown/Text-safe single line. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * "vulnerability coverage: 12 of 14 components assessed; unassessed: a (reason); b (reason); +3 more", or
 * undefined when the vulnerability checks did not run. Every report format shows it (issue 13: coverage is
 * part of the verdict).
 */
export function coverageText(o: ReleaseOutcome, listed = 5): string | undefined {
  const c = o.evaluation.vulnerabilityCoverage;
  if (!c) return undefined;
  const un = c.total - c.assessed;
  const list = (c.unassessed ?? []).slice(0, listed).map((u) => `${u.component} (${u.reason})`);
  const more = un - list.length;
  return `vulnerability coverage: ${c.assessed} of ${c.total} components assessed${un > 0 ? `; unassessed: ${list.join('; ')}${more > 0 ? `; +${more} more` : ''}` : ''}`;
}
