/**
 * YAML as kubectl reads it (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1 scalars): `yes`/`no`/`on`/`off`/`y`/`n`
 * are booleans (so `enforcement: Off` unquoted is `false` for the API server too — quote it), and an
 * unquoted date such as `placedOnMarket: 2028-01-15` stays the string "2028-01-15" (js-yaml's default schema
 * would make it a Date).
 */
import yaml from 'js-yaml';

const YAML11_TRUE = new Set(['true', 'True', 'TRUE', 'y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const YAML11_FALSE = new Set(['false', 'False', 'FALSE', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);

const yaml11Bool = new yaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: unknown) => typeof data === 'string' && (YAML11_TRUE.has(data) || YAML11_FALSE.has(data)),
  construct: (data: string) => YAML11_TRUE.has(data),
  predicate: (data: unknown) => typeof data === 'boolean',
  represent: (data: unknown) => (data ? 'true' : 'false'),
});

/** The schema kubectl effectively uses: YAML 1.2 core + YAML 1.1 booleans, no timestamps. */
export const KUBE_YAML_SCHEMA = yaml.CORE_SCHEMA.extend({ implicit: [yaml11Bool] });

/** One YAML document of a file, with the 1-based line it starts on. */
export interface YamlDocument {
  readonly doc: unknown;
  /** 1-based line of the document's first line (after its `---`). */
  readonly line: number;
  /** The document's source text. */
  readonly text: string;
}

/** A YAML syntax error: `line` is 1-based. */
export class YamlSyntaxError extends Error {
  readonly line: number | undefined;
  constructor(message: string, line: number | undefined) {
    super(message);
    this.name = 'YamlSyntaxError';
    this.line = line;
  }
}

/**
 * Splits a multi-document YAML stream at `---` lines and parses each document separately, so each knows the
 * line it starts on. Empty documents (only comments) are dropped. Throws YamlSyntaxError with the file line.
 */
export function parseYamlStream(text: string, filename?: string): YamlDocument[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const chunks: { start: number; lines: string[] }[] = [{ start: 0, lines: [] }];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^---(\s|$)/.test(l)) {
      chunks.push({ start: i, lines: [' '.repeat(3) + l.slice(3)] });
    } else if (/^\.\.\.(\s|$)/.test(l)) {
      chunks.push({ start: i + 1, lines: [] });
    } else {
      chunks[chunks.length - 1]!.lines.push(l);
    }
  }
  const out: YamlDocument[] = [];
  for (const c of chunks) {
    const src = c.lines.join('\n');
    if (!/^\s*[^\s#%]/m.test(src)) continue;
    let doc: unknown;
    try {
      doc = yaml.load(src, { schema: KUBE_YAML_SCHEMA, ...(filename ? { filename } : {}) });
    } catch (err) {
      const e = err as yaml.YAMLException & { mark?: { line: number } };
      const line = e.mark ? c.start + e.mark.line + 1 : undefined;
      throw new YamlSyntaxError(line ? `${e.reason ?? e.message} (line ${line})` : (e.reason ?? e.message), line);
    }
    if (doc === null || doc === undefined) continue;
    const first = c.lines.findIndex((l) => /^\s*[^\s#]/.test(l));
    out.push({ doc, line: c.start + Math.max(0, first) + 1, text: src });
  }
  return out;
}

/** Only the documents. */
export function loadYamlDocuments(text: string, filename?: string): unknown[] {
  return parseYamlStream(text, filename).map((d) => d.doc);
}
