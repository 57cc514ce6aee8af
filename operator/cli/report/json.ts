/**
 * JSON report: a Kubernetes `List` of the evaluated ProductReleases, each with exactly the `status` the
 * operator would write (built by the operator's own buildStatus), so `jq '.items[].status.decision'` works on
 * both this and `kubectl get productreleases -o json`. Each item also carries the check findings (`findings`,
 * by check id) and `source` (file and line), which the operator does not store.
 */
import type { ReleaseOutcome } from '../evaluate.ts';
import { verdictOf } from './common.ts';

export function renderJson(outcomes: readonly ReleaseOutcome[], opts: { exitCode: number }): string {
  const items = outcomes.map((o) => {
    const r = o.release.object;
    return {
      apiVersion: r.apiVersion,
      kind: r.kind,
      metadata: {
        name: r.metadata.name,
        namespace: r.metadata.namespace,
        ...(r.metadata.labels ? { labels: r.metadata.labels } : {}),
        generation: r.metadata.generation,
      },
      status: o.status,
      findings: o.findings,
      verdict: verdictOf(o),
      source: { file: o.release.source.file, line: o.release.source.line },
      ...(o.evidenceErrors.length ? { evidenceErrors: o.evidenceErrors } : {}),
    };
  });
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: {}, exitCode: opts.exitCode, items }, null, 2)}\n`;
}
