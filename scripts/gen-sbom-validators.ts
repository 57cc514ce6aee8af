/**
 * Precompiles the SBOM schema validators for the compiled package (part of `npm run build`, after tsc): writes
 * dist/operator/sbom/validators/<key>.cjs, Ajv standalone code for every CycloneDX/SPDX JSON schema, so that
 * `cra-gate sbom check` neither loads Ajv nor compiles a schema at start-up (operator/sbom/schema-compile.ts).
 * It runs the compiled dist/ module, so each file's fingerprint is the one that module checks when loading it.
 *
 *   node scripts/gen-sbom-validators.ts
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as SchemaCompile from '../operator/sbom/schema-compile.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'operator', 'sbom', 'schema-compile.js');
if (!existsSync(compiled)) {
  process.stderr.write(`${path.relative(root, compiled)} is missing: run tsc -p tsconfig.build.json first (npm run build does)\n`);
  process.exit(1);
}
const m = (await import(pathToFileURL(compiled).href)) as typeof SchemaCompile;
const files = m.writePrecompiled(path.join(root, 'dist', 'operator', 'sbom', 'validators'));
process.stdout.write(`precompiled ${files.length} SBOM schema validators into ${path.relative(root, path.dirname(files[0]!))}\n`);
