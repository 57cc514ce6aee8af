/**
 * Starts a cra-gate entry point after checking the Node.js version. Plain JavaScript on purpose: it must run on
 * any Node.js so that an unsupported one gets ONE line saying which Node.js is needed, instead of an
 * ERR_UNKNOWN_FILE_EXTENSION stack trace or a syntax error deep inside a dependency.
 *
 * From a repository checkout (the `.ts` sources exist) the sources run directly (Node 24 type stripping, no build);
 * from the installed package (`npm install cra-gate`: only dist/ is shipped) the compiled JavaScript runs.
 */
import { existsSync, readFileSync } from 'node:fs';
// The namespace, not named imports: enableCompileCache does not exist on the old Node.js this file must still run on.
import * as nodeModule from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = nodeModule.createRequire(import.meta.url);

/** Exit code for "cannot run here" (the CLI's "unusable input" code). */
export const EXIT_UNSUPPORTED = 2;

/**
 * Why this Node.js cannot run `entry`, or undefined when it can.
 * @param {string} command the command name shown in the message
 * @param {{ node: string, typescript: unknown, range: string, fromSource: boolean, satisfies: (v: string, r: string) => boolean }} env
 * @returns {string | undefined}
 */
export function unsupportedReason(command, env) {
  if (!env.satisfies(env.node, env.range)) {
    return `${command}: needs Node.js ${env.range}, but this is Node.js ${env.node}`;
  }
  if (env.fromSource && !env.typescript) {
    return `${command}: running from the sources needs Node.js 24 (type stripping), but this is Node.js ${env.node}; use \`npx node\` after \`npm ci\`, or the built package`;
  }
  return undefined;
}

/**
 * Checks the Node.js version and imports the entry module (path without extension, relative to the package root).
 * @param {string} command
 * @param {string} entry e.g. `operator/cli/main`
 * @param {{ sourceOnly?: boolean, compileCache?: boolean }} [opts] compileCache: keep V8's compiled code (and, from the
 *   sources, the type-stripped modules) in Node's on-disk compile cache (os.tmpdir()/node-compile-cache, or
 *   NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off), so a short-lived command does not compile the same
 *   modules on every run. A cache that cannot be written is skipped by Node, never an error.
 */
export async function launch(command, entry, opts = {}) {
  let range = '>=24';
  let satisfies = () => false;
  try {
    range = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines.node;
    satisfies = require('semver/functions/satisfies.js');
  } catch (err) {
    process.stderr.write(`${command}: broken installation (${err instanceof Error ? err.message : String(err)})\n`);
    process.exit(EXIT_UNSUPPORTED);
  }
  const source = path.join(root, `${entry}.ts`);
  const fromSource = opts.sourceOnly === true || existsSync(source);
  const reason = unsupportedReason(command, {
    node: process.versions.node,
    typescript: process.features && process.features.typescript,
    range,
    fromSource,
    satisfies,
  });
  if (reason) {
    process.stderr.write(`${reason}\n`);
    process.exit(EXIT_UNSUPPORTED);
  }
  const file = fromSource ? source : path.join(root, 'dist', `${entry}.js`);
  if (!existsSync(file)) {
    process.stderr.write(`${command}: ${path.relative(root, file)} is missing; run \`npm run build\`\n`);
    process.exit(EXIT_UNSUPPORTED);
  }
  if (opts.compileCache && typeof nodeModule.enableCompileCache === 'function') {
    try {
      nodeModule.enableCompileCache();
    } catch {
      // no cache: only slower
    }
  }
  await import(pathToFileURL(file).href);
}
