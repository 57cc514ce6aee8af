/**
 * The `evaluate`, `explain` and `checks` verbs of the CLI (operator/cli/run.ts imports this module only when one of
 * them runs: it loads the engine, every check and the report renderers).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { checkRegistry } from '../checks/index.ts';
import { renderChecksList, renderExplain, suggest } from './catalogue.ts';
import { exitCodeFor, type ReleaseOutcome } from './evaluate.ts';
import { EVALUATION_OPTIONS, evaluateFiles, type RunOptions } from './evaluate-files.ts';
import { useColour, type CliIO } from './io.ts';
import { InputError } from './input-error.ts';
import { renderJson } from './report/json.ts';
import { renderJunit } from './report/junit.ts';
import { renderMarkdown } from './report/markdown.ts';
import { renderSarif } from './report/sarif.ts';
import { renderText } from './report/text.ts';
import { FORMATS, USAGE, type Format } from './run.ts';

function parse(args: readonly string[], options: ParseArgsOptionsConfig): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new InputError(`${(err as Error).message.replace(/\.$/, '')} (--help for usage)`);
  }
}

export function runChecks(args: readonly string[], io: CliIO): number {
  const { values } = parse(args, { output: { type: 'string', short: 'o' } });
  if (values.output === 'json') {
    const list = [...checkRegistry.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map(({ id, title, cra, standards, reads, passRule, fix, inForceFrom, inForceBasis, params }) => ({ id, title, cra, standards, reads, passRule, fix, inForceFrom, inForceBasis: inForceBasis ?? 'placedOnMarket', params: params ?? [] }));
    io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  } else if (values.output === undefined || values.output === 'text') {
    io.stdout.write(renderChecksList());
  } else {
    throw new InputError(`--output must be text or json for checks, not "${values.output as string}"`);
  }
  return 0;
}

export function runExplain(args: readonly string[], io: CliIO): number {
  const { positionals } = parse(args, {});
  if (positionals.length !== 1) throw new InputError('explain takes exactly one check id, e.g. cra-gate explain update.support-period');
  const id = positionals[0]!;
  const def = checkRegistry.get(id);
  if (!def) {
    const near = suggest(id);
    throw new InputError(`unknown check id "${id}"${near.length ? `; did you mean ${near.join(', ')}?` : ''} (cra-gate checks lists them all)`);
  }
  io.stdout.write(renderExplain(def));
  return 0;
}

function render(format: Format, outcomes: readonly ReleaseOutcome[], exitCode: number, now: Date, colour: boolean): string {
  switch (format) {
    case 'json':
      return renderJson(outcomes, { exitCode });
    case 'junit':
      return renderJunit(outcomes, { now });
    case 'sarif':
      return renderSarif(outcomes, { exitCode, now });
    case 'markdown':
      return renderMarkdown(outcomes, { exitCode });
    case 'text':
      return renderText(outcomes, { colour, exitCode });
  }
}

function isFormat(s: unknown): s is Format {
  return typeof s === 'string' && (FORMATS as readonly string[]).includes(s);
}

export async function runEvaluate(args: readonly string[], io: CliIO, opts: RunOptions): Promise<number> {
  const { values, positionals } = parse(args, {
    ...EVALUATION_OPTIONS,
    output: { type: 'string', short: 'o' },
    report: { type: 'string', multiple: true },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const format = (values.output as string | undefined) ?? 'text';
  if (!isFormat(format)) throw new InputError(`--output must be one of ${FORMATS.join(', ')}, not "${format}"`);
  const reports: { format: Format; file: string }[] = [];
  for (const r of (values.report as string[] | undefined) ?? []) {
    const eq = r.indexOf('=');
    const f = r.slice(0, eq);
    if (eq <= 0 || !isFormat(f) || eq === r.length - 1) throw new InputError(`--report takes FORMAT=FILE with FORMAT one of ${FORMATS.join(', ')}, not "${r}"`);
    reports.push({ format: f, file: path.resolve(io.cwd, r.slice(eq + 1)) });
  }
  const { outcomes, now } = await evaluateFiles('evaluate', values, positionals, io, opts);
  const exitCode = exitCodeFor(outcomes);
  io.stdout.write(render(format, outcomes, exitCode, now, useColour(io.stdout, io.env)));
  for (const r of reports) {
    try {
      writeFileSync(r.file, render(r.format, outcomes, exitCode, now, false));
    } catch (err) {
      throw new InputError(`cannot write report ${path.relative(io.cwd, r.file) || r.file}: ${(err as Error).message}`);
    }
  }
  return exitCode;
}
