/** Human-readable report (colour only when the caller says so: a TTY without NO_COLOR). */
import { formatBasis } from '../../checks/types.ts';
import { palette } from '../io.ts';
import type { ReleaseOutcome } from '../evaluate.ts';
import { unusableReason } from '../evaluate.ts';
import { checkDefinition, counts, coverageText, key, severity, verdictOf } from './common.ts';

export function renderText(outcomes: readonly ReleaseOutcome[], opts: { colour: boolean; exitCode: number }): string {
  const p = palette(opts.colour);
  const out: string[] = [];
  for (const o of outcomes) {
    const ev = o.evaluation;
    const verdict = verdictOf(o);
    const head =
      verdict === 'Approved' ? p.green(`✔ ${key(o)}  Approved`) : verdict === 'Blocked' ? p.red(`✘ ${key(o)}  Blocked`) : p.yellow(`? ${key(o)}  ${ev.decision} (no usable verdict)`);
    const s = ev.summary;
    out.push(
      `${p.bold(head)}  ${p.dim(`policy ${o.policyName} · ${s.passed} passed, ${s.failed} failed, ${s.warned} warned, ${s.waived} waived, ${s.skipped} skipped · ${o.release.source.file}:${o.release.source.line}`)}`,
    );
    out.push(`  ${ev.reason}: ${ev.message}`);
    const cov = coverageText(o);
    if (cov) out.push(ev.vulnerabilityCoverage!.assessed < ev.vulnerabilityCoverage!.total ? p.yellow(`  ${cov}`) : `  ${cov}`);
    const why = unusableReason(o);
    if (why && ev.decision !== 'Pending') out.push(p.yellow(`  not a final verdict: ${why}`));
    for (const c of ev.checks) {
      const sev = severity(c);
      const tag =
        sev === 'ok'
          ? p.green('PASS ')
          : sev === 'block'
            ? p.red(c.result === 'Error' ? 'ERROR' : 'FAIL ')
            : sev === 'warn'
              ? p.yellow(c.result === 'Error' ? 'WARN!' : 'WARN ')
              : sev === 'waived'
                ? p.dim('WAIVE')
                : p.dim('SKIP ');
      out.push(`    ${tag} ${c.id.padEnd(30)} ${c.reason}: ${c.message}`);
      if (sev === 'block' || sev === 'warn') {
        for (const f of (o.findings[c.id] ?? []).slice(0, 10)) out.push(p.dim(`          ${f.pointer || '/'}: ${f.message}${f.basis ? ` [${formatBasis(f.basis)}]` : ''}`));
        const more = (o.findings[c.id]?.length ?? 0) - 10;
        if (more > 0) out.push(p.dim(`          … ${more} more findings (--output json lists all)`));
        if (c.cra.length) out.push(p.dim(`          CRA: ${c.cra.join(', ')}`));
        if (c.guidance?.length) out.push(p.dim(`          guidance: ${c.guidance.join(', ')}${c.basis === 'Guidance' ? ' (this result rests on guidance only, not on the CRA text)' : ''}`));
        const fix = checkDefinition(c.id)?.fix;
        if (fix) out.push(`          fix: ${fix}`);
      }
    }
    for (const e of o.evidenceErrors) out.push(p.yellow(`    evidence error (${e.source}): ${e.reason}: ${e.message}`));
    out.push('');
  }
  const c = counts(outcomes);
  out.push(`${c.Approved} approved, ${c.Blocked} blocked, ${c.Unusable} without a usable verdict → exit ${opts.exitCode}`);
  return `${out.join('\n')}\n`;
}
