/**
 * JUnit XML for CI test reports (GitLab `artifacts:reports:junit`, Jenkins, GitHub test reporters): one
 * <testsuite> per release, one <testcase> per check. A blocking Fail is a <failure>, a blocking Error an
 * <error>, Skipped a <skipped>; Warn and Waived outcomes pass with the message in <system-out>. A release
 * without a verdict (policy missing or invalid) gets one <testcase name="evaluation"> with an <error>.
 */
import { formatBasis } from '../../checks/types.ts';
import type { ReleaseOutcome } from '../evaluate.ts';
import { checkDefinition, key, lineOf, severity, coverageText } from './common.ts';

/** Escapes text for XML 1.0 (and drops characters XML 1.0 cannot carry). */
export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

const attr = (name: string, value: string | number): string => ` ${name}="${xmlEscape(String(value))}"`;

export function renderJunit(outcomes: readonly ReleaseOutcome[], opts: { now: Date }): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  for (const o of outcomes) {
    const ev = o.evaluation;
    const cases: string[] = [];
    let sTests = 0;
    let sFail = 0;
    let sErr = 0;
    let sSkip = 0;
    const classname = `cra-gate.${key(o).replace('/', '.')}`;
    if (ev.decision === 'Pending') {
      sTests++;
      sErr++;
      cases.push(
        `    <testcase${attr('classname', classname)}${attr('name', 'evaluation')}${attr('file', o.release.source.file)}${attr('line', o.release.source.line)}>\n` +
          `      <error${attr('message', ev.message)}${attr('type', ev.reason)}>${xmlEscape(`${ev.reason}: ${ev.message}`)}</error>\n` +
          `    </testcase>`,
      );
    }
    for (const c of ev.checks) {
      sTests++;
      const findings = o.findings[c.id] ?? [];
      const def = checkDefinition(c.id);
      const detail = [
        `${c.reason}: ${c.message}`,
        ...findings.map((f) => `  ${f.pointer || '/'}: ${f.message}${f.basis ? ` [${formatBasis(f.basis)}]` : ''}`),
        c.cra.length ? `CRA: ${c.cra.join(', ')}` : '',
        c.guidance?.length ? `Guidance: ${c.guidance.join(', ')}` : '',
        c.basis ? `Rests on: ${c.basis === 'CRA' ? 'the CRA text' : 'guidance only'}` : '',
        def?.fix ? `Fix: ${def.fix}` : '',
        `Release: ${key(o)} (${o.release.source.file}:${o.release.source.line}), policy ${o.policyName}, enforcement ${c.enforcement}`,
      ]
        .filter(Boolean)
        .join('\n');
      const line = lineOf(o, findings[0]?.pointer);
      const open = `    <testcase${attr('classname', classname)}${attr('name', c.id)}${attr('file', o.release.source.file)}${attr('line', line)}${attr('time', 0)}>`;
      const sev = severity(c);
      let body = '';
      if (sev === 'block' && c.result === 'Fail') {
        sFail++;
        body = `      <failure${attr('message', c.message)}${attr('type', c.reason)}>${xmlEscape(detail)}</failure>\n`;
      } else if (sev === 'block') {
        sErr++;
        body = `      <error${attr('message', c.message)}${attr('type', c.reason)}>${xmlEscape(detail)}</error>\n`;
      } else if (sev === 'skip') {
        sSkip++;
        body = `      <skipped${attr('message', `${c.reason}: ${c.message}`)}/>\n`;
      } else if (sev === 'warn' || sev === 'waived') {
        body = `      <system-out>${xmlEscape(`${sev === 'warn' ? 'WARNING (not blocking)' : 'WAIVED'}: ${detail}`)}</system-out>\n`;
      }
      cases.push(body ? `${open}\n${body}    </testcase>` : `${open}</testcase>`);
    }
    tests += sTests;
    failures += sFail;
    errors += sErr;
    skipped += sSkip;
    const props =
      `    <properties>\n` +
      `      <property${attr('name', 'decision')}${attr('value', ev.decision)}/>\n` +
      `      <property${attr('name', 'reason')}${attr('value', ev.reason)}/>\n` +
      `      <property${attr('name', 'policy')}${attr('value', o.policyName)}/>\n` +
      (coverageText(o) ? `      <property${attr('name', 'vulnerabilityCoverage')}${attr('value', coverageText(o, 20)!)}/>\n` : '') +
      `    </properties>`;
    suites.push(
      `  <testsuite${attr('name', key(o))}${attr('tests', sTests)}${attr('failures', sFail)}${attr('errors', sErr)}${attr('skipped', sSkip)}${attr('time', 0)}${attr('timestamp', opts.now.toISOString().replace(/\.\d{3}Z$/, ''))}${attr('file', o.release.source.file)}>\n` +
        `${props}\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites${attr('name', 'cra-gate')}${attr('tests', tests)}${attr('failures', failures)}${attr('errors', errors)}${attr('skipped', skipped)}${attr('time', 0)}>\n` +
    `${suites.join('\n')}\n</testsuites>\n`
  );
}
