/**
 * `cra-gate dossier`: the release's CRA file (technical documentation per Annex VII, a draft EU declaration of
 * conformity per Annex V, Art. 14 drafts), built from the same evaluation as `evaluate` — same engine, same
 * evidence collectors, offline with --offline. Exit codes are evaluate's: the file is written in every case
 * (a Blocked release's file says why), and the code tells whether the verdict was Approved.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildDossier } from '../dossier/model.ts';
import { renderDossierHtml, renderDossierJson, renderDossierMarkdown } from '../dossier/render.ts';
import { exitCodeFor } from './evaluate.ts';
import type { CliIO } from './io.ts';
import { InputError } from './load.ts';
import { toolVersion } from './report/common.ts';
import { EVALUATION_OPTIONS, evaluateFiles, type RunOptions } from './evaluate-files.ts';

const OUTPUTS = { html: 'html', md: 'md', markdown: 'md', json: 'json' } as const;

export async function runDossier(args: readonly string[], io: CliIO, opts: RunOptions, usage: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...EVALUATION_OPTIONS, output: { type: 'string', short: 'o' }, out: { type: 'string' }, 'out-dir': { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new InputError(`${(err as Error).message.replace(/\.$/, '')} (--help for usage)`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  const out = (values.output) ?? 'html';
  const ext = (OUTPUTS as Record<string, 'html' | 'md' | 'json'>)[out];
  if (!ext) throw new InputError(`--output must be html, md or json for dossier, not "${out}"`);
  if (values.out !== undefined && values['out-dir'] !== undefined) throw new InputError('give --out or --out-dir, not both');
  const { outcomes, now } = await evaluateFiles('dossier', values, positionals, io, opts);
  if (outcomes.length > 1 && values['out-dir'] === undefined) throw new InputError(`${outcomes.length} releases: use --out-dir DIR to write one file per release`);
  const render = ext === 'html' ? renderDossierHtml : ext === 'md' ? renderDossierMarkdown : renderDossierJson;
  for (const o of outcomes) {
    const dossier = buildDossier({ release: o.release.object, evaluation: o.evaluation, evidence: o.evidence, now, tool: `cra-gate ${toolVersion()}` });
    const text = render(dossier);
    const dir = values['out-dir'];
    const file = dir
      ? path.resolve(io.cwd, dir, `${dossier.release.namespace}_${dossier.release.name}.${ext}`)
      : values.out !== undefined
        ? path.resolve(io.cwd, values.out)
        : undefined;
    if (!file) {
      io.stdout.write(text);
      continue;
    }
    try {
      if (dir) mkdirSync(path.resolve(io.cwd, dir), { recursive: true });
      writeFileSync(file, text);
    } catch (err) {
      throw new InputError(`cannot write ${path.relative(io.cwd, file) || file}: ${(err as Error).message}`);
    }
    io.stderr.write(`cra-gate: wrote ${path.relative(io.cwd, file) || file} (${dossier.verdict.decision}, ${dossier.gaps} item(s) to be provided)\n`);
  }
  return exitCodeFor(outcomes);
}
