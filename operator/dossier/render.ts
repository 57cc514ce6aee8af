/**
 * Renderers of the CRA file: JSON (the model itself), Markdown, and one self-contained HTML file (no external
 * assets: inline CSS, no scripts, no fonts or images fetched) that reads on screen and prints (print stylesheet:
 * A4, page breaks between parts, link targets written out). Gaps are shown in words ("To be provided"), never by
 * colour alone.
 */
import type { Dossier, Field } from './model.ts';

export function renderDossierJson(d: Dossier): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

const TBP = 'To be provided';

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function mdFields(fields: readonly Field[]): string {
  const rows = fields.map((f) => `| ${mdCell(f.label)} | ${f.ref} | ${f.toBeProvided ? `**${TBP}**` : mdCell(f.value!)} | ${mdCell(f.source ?? '')} |`);
  return ['| Item | CRA | Content | Source |', '|---|---|---|---|', ...rows].join('\n');
}

export function renderDossierMarkdown(d: Dossier): string {
  const out: string[] = [];
  out.push(`# CRA file: ${d.release.product} ${d.release.version}`, '');
  out.push(`Release \`${d.release.namespace}/${d.release.name}\` · verdict **${d.verdict.decision}** (${d.verdict.reason}) · generated ${d.generatedAt} by ${d.tool} · ${d.gaps} item(s) to be provided`, '');
  out.push('## Technical documentation (Regulation (EU) 2024/2847, Annex VII)', '');
  for (const s of d.technicalDocumentation) out.push(`### ${s.title} (${s.ref})`, '', mdFields(s.fields), '');
  out.push('### Checks', '', '| Check | Result | Enforcement | Reason | CRA | Evidence |', '|---|---|---|---|---|---|');
  for (const c of d.checks) out.push(`| ${c.id} | ${c.result} | ${c.enforcement} | ${c.reason} | ${mdCell(c.cra.join(', '))} | ${mdCell(c.evidence ?? '')} |`);
  out.push('', '## EU declaration of conformity (Annex V) — draft', '', mdFields(d.declarationOfConformity.fields), '');
  out.push('## Art. 14 notification drafts', '');
  if (d.art14.length === 0) out.push('No actively exploited vulnerability affects this release.', '');
  for (const v of d.art14) {
    out.push(`### ${v.vulnerability} (known since ${v.knownSince})`, '');
    for (const r of v.reports) out.push(`#### ${r.title} (${r.ref}) — due ${r.due ?? r.dueRule}`, '', mdFields(r.fields), '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function valueHtml(v: string): string {
  // Only https URLs become links; everything else is text. Lines stay lines.
  return v
    .split(/\r?\n/)
    .map((line) => (/^https:\/\/\S+$/.test(line) ? `<a href="${esc(line)}">${esc(line)}</a>` : esc(line)))
    .join('<br>');
}

function htmlFields(caption: string, fields: readonly Field[]): string {
  const rows = fields
    .map(
      (f) =>
        `<tr${f.toBeProvided ? ' class="gap"' : ''}><th scope="row">${esc(f.label)}</th><td>${esc(f.ref)}</td><td>${f.toBeProvided ? `<strong>${TBP}</strong>` : valueHtml(f.value!)}</td><td>${esc(f.source ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<table class="fields"><caption>${esc(caption)}</caption><thead><tr><th scope="col">Item</th><th scope="col">CRA</th><th scope="col">Content</th><th scope="col">Source</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

const CSS = `
:root{color-scheme:light}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#111;background:#fff;max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.3rem;border-bottom:2px solid #333;padding-bottom:.2rem;margin-top:2.2rem}
h3{font-size:1.1rem;margin-top:1.6rem}h4{font-size:1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #777;padding:.3rem .45rem;vertical-align:top;text-align:left;overflow-wrap:anywhere}
thead th{background:#e8e8e8}
table.fields td:nth-child(2){width:8.5rem}
table.checks td:nth-child(2),table.checks td:nth-child(3){white-space:nowrap}
tr.gap td:nth-child(3){background:#fff4d6}
.verdict{font-weight:700}.Approved{color:#0a5a1e}.Blocked{color:#9b1111}.Pending{color:#6b4e00}
.meta{color:#333}
a{color:#0645ad}
@media print{
 @page{size:A4;margin:16mm 14mm}
 body{margin:0;max-width:none;font-size:10.5pt}
 main>section~section>h2{break-before:page}
 table,tr{break-inside:avoid}
 a{color:#000;text-decoration:none}a[href]::after{content:" <" attr(href) ">";font-size:8pt}
 tr.gap td:nth-child(3){background:none}
}`;

export function renderDossierHtml(d: Dossier): string {
  const title = `CRA file: ${d.release.product} ${d.release.version}`;
  const parts: string[] = [];
  parts.push(`<header><h1>${esc(title)}</h1><p class="meta">Release <code>${esc(`${d.release.namespace}/${d.release.name}`)}</code> · verdict <span class="verdict ${esc(d.verdict.decision)}">${esc(d.verdict.decision)}</span> (${esc(d.verdict.reason)}) · generated ${esc(d.generatedAt)} by ${esc(d.tool)} · <strong>${d.gaps}</strong> item(s) to be provided</p></header>`);
  parts.push('<main>');
  parts.push('<section aria-labelledby="td"><h2 id="td">Technical documentation (Regulation (EU) 2024/2847, Annex VII)</h2>');
  for (const s of d.technicalDocumentation) parts.push(`<h3 id="s-${esc(s.id)}">${esc(s.title)} (${esc(s.ref)})</h3>${htmlFields(`${s.title} — ${s.ref}`, s.fields)}`);
  const rows = d.checks
    .map((c) => `<tr><th scope="row">${esc(c.id)}</th><td>${esc(c.result)}</td><td>${esc(c.enforcement)}</td><td>${esc(c.reason)}: ${esc(c.message)}</td><td>${esc(c.cra.join(', '))}</td><td>${esc(c.evidence ?? '')}</td></tr>`)
    .join('\n');
  parts.push(`<h3 id="checks">Reports of the checks (Annex VII(6))</h3><table class="checks"><caption>Every check of the policy, with its result and the evidence it read</caption><thead><tr><th scope="col">Check</th><th scope="col">Result</th><th scope="col">Enforcement</th><th scope="col">Reason</th><th scope="col">CRA</th><th scope="col">Evidence</th></tr></thead><tbody>\n${rows}\n</tbody></table></section>`);
  parts.push(`<section aria-labelledby="doc"><h2 id="doc">EU declaration of conformity (Annex V) — draft</h2>${htmlFields('Declaration of conformity, Annex V items', d.declarationOfConformity.fields)}</section>`);
  parts.push('<section aria-labelledby="a14"><h2 id="a14">Art. 14 notification drafts</h2>');
  if (d.art14.length === 0) parts.push('<p>No actively exploited vulnerability affects this release.</p>');
  for (const v of d.art14) {
    parts.push(`<h3>${esc(v.vulnerability)} (known since ${esc(v.knownSince)})</h3>`);
    for (const r of v.reports) parts.push(`<h4>${esc(r.title)} (${esc(r.ref)}) — due ${esc(r.due ?? r.dueRule)}</h4>${htmlFields(`${r.title}, ${v.vulnerability}`, r.fields)}`);
  }
  parts.push('</section></main>');
  return `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${esc(title)}</title>\n<style>${CSS}\n</style>\n</head>\n<body>\n${parts.join('\n')}\n</body>\n</html>\n`;
}
