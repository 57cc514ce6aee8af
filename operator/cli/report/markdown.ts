/** Markdown for pull-request / merge-request comments (GitHub-flavoured: tables, <details>). */
import { formatBasis } from '../../checks/types.ts';
import type { ReleaseOutcome } from '../evaluate.ts';
import { unusableReason } from '../evaluate.ts';
import { checkDefinition, counts, coverageText, key, lineOf, severity, verdictOf } from './common.ts';

/** Escapes text for a table cell / inline position. */
export function mdEscape(s: string): string {
  return s
    .replace(/\s+/g, ' ')
    .replace(/([\\`*_{}[\]<>|#])/g, '\\$1')
    .trim();
}

const ICON = { block: '❌', warn: '⚠️', ok: '✅', skip: '⏭️', waived: '🛡️' } as const;

export function renderMarkdown(outcomes: readonly ReleaseOutcome[], opts: { exitCode: number }): string {
  const c = counts(outcomes);
  const out: string[] = [];
  const headIcon = opts.exitCode === 0 ? '✅' : opts.exitCode === 1 ? '❌' : '⚠️';
  out.push(`## ${headIcon} cra-gate: ${c.Approved} approved, ${c.Blocked} blocked${c.Unusable ? `, ${c.Unusable} without a usable verdict` : ''}`);
  out.push('');
  for (const o of outcomes) {
    const ev = o.evaluation;
    const v = verdictOf(o);
    const icon = v === 'Approved' ? '✅' : v === 'Blocked' ? '❌' : '⚠️';
    out.push(`### ${icon} \`${key(o)}\` — ${ev.decision}`);
    out.push('');
    const s = ev.summary;
    out.push(
      `Policy \`${o.policyName}\` · ${s.passed} passed · ${s.failed} failed · ${s.warned} warned · ${s.waived} waived · ${s.skipped} skipped · \`${o.release.source.file.replaceAll("`", "")}:${o.release.source.line}\``,
    );
    out.push('');
    out.push(`**${ev.reason}**: ${mdEscape(ev.message)}`);
    const cov = coverageText(o);
    if (cov) out.push('', `${ev.vulnerabilityCoverage!.assessed < ev.vulnerabilityCoverage!.total ? '⚠️ ' : ''}${mdEscape(cov)}`);
    const why = unusableReason(o);
    if (why && ev.decision !== 'Pending') out.push('', `> **Not a final verdict:** ${mdEscape(why)}`);
    out.push('');
    if (ev.checks.length > 0) {
      out.push('| | Check | Result | Enforcement | Reason | Message | CRA text | Guidance | Rests on |');
      out.push('|---|---|---|---|---|---|---|---|---|');
      for (const ch of ev.checks) {
        out.push(
          `| ${ICON[severity(ch)]} | \`${ch.id}\` | ${ch.result} | ${ch.enforcement} | ${mdEscape(ch.reason)} | ${mdEscape(ch.message)} | ${mdEscape(ch.cra.join(', '))} | ${mdEscape((ch.guidance ?? []).join(', '))} | ${ch.basis ?? ''} |`,
        );
      }
      out.push('');
      const problems = ev.checks.filter((ch) => severity(ch) === 'block' || severity(ch) === 'warn');
      if (problems.length > 0) {
        out.push('<details><summary>How to fix</summary>');
        out.push('');
        for (const ch of problems) {
          const def = checkDefinition(ch.id);
          out.push(`- **\`${ch.id}\`** (line ${lineOf(o, o.findings[ch.id]?.[0]?.pointer)}): ${mdEscape(def?.fix ?? 'see `cra-gate explain ' + ch.id + '`')}`);
          for (const f of (o.findings[ch.id] ?? []).slice(0, 10)) out.push(`  - \`${f.pointer || '/'}\`: ${mdEscape(f.message)}${f.basis ? ` (${mdEscape(formatBasis(f.basis))})` : ''}`);
        }
        out.push('');
        out.push('</details>');
        out.push('');
      }
    }
  }
  out.push(`<sub>cra-gate evaluate · exit ${opts.exitCode} · EU Cyber Resilience Act (Regulation (EU) 2024/2847)</sub>`);
  return `${out.join('\n')}\n`;
}
