/**
 * Version ordering per ecosystem, for OSV range evaluation. Each comparator returns <0, 0, >0, or throws
 * VersionError when a version cannot be parsed in that scheme (the caller reports the match as uncertain:
 * fail closed, never a silent "not affected").
 *
 *  - SEMVER (OSV range type) and the OSV ecosystems whose versions are SemVer (npm, Go with its leading "v"
 *    and "+incompatible", crates.io, Hex, Pub, NuGet, SwiftURL): Semantic Versioning 2.0.0 precedence, by the
 *    `semver` package (the parser npm uses).
 *  - PyPI: PEP 440 (epoch, release, pre/post/dev, local), by `@renovatebot/pep440`.
 *  - RubyGems: Gem::Version, by `@renovatebot/ruby-semver`.
 *  - Maven: Maven's ComparableVersion (items split on ".", "-" and digit/letter transitions; qualifiers
 *    alpha < beta < milestone < rc/cr < snapshot < "" (ga, final, release) < sp; unknown qualifiers after).
 *  - Debian / Ubuntu: dpkg's algorithm (epoch:upstream-revision, "~" sorts before everything, letters before
 *    others). No maintained npm implementation exists, so it is implemented here and property-tested.
 *  - Maven: likewise (no maintained npm implementation of ComparableVersion).
 *  - Alpine: apk-tools' version grammar (see compareApk), likewise implemented here and property-tested.
 */
import * as pep440 from '@renovatebot/pep440';
import * as gem from '@renovatebot/ruby-semver';
import semver from 'semver';
import type { SemVer } from 'semver';

export class VersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VersionError';
  }
}

export type Comparator = (a: string, b: string) => number;

// ---- SemVer 2.0.0 (the `semver` package) and PEP 440 (`@renovatebot/pep440`) ---------------------------

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Bounded memo of parsed versions (matching compares the same few strings many times). */
function memo<T>(parse: (v: string) => T, max = 50_000): (v: string) => T {
  const cache = new Map<string, T>();
  return (v) => {
    let r = cache.get(v);
    if (r === undefined) {
      r = parse(v);
      if (cache.size >= max) cache.clear();
      cache.set(v, r);
    }
    return r;
  };
}

const semverCached = memo((v: string): SemVer => {
  // Strict SemVer 2.0.0 (one optional leading "v", as OSV SEMVER ranges and Go use); no coercion of "1.0".
  const parsed = semver.parse(v.trim(), { loose: false });
  if (!parsed) throw new VersionError(`"${v.slice(0, 60)}" is not a semantic version`);
  return parsed;
});

/** SemVer 2.0.0 precedence (build metadata ignored). Throws VersionError for anything else. */
export const compareSemver: Comparator = (a, b) => semverCached(a).compare(semverCached(b));

/** Go module versions: semver with a leading "v"; "+incompatible" is build metadata (ignored). */
export const compareGo: Comparator = (a, b) => compareSemver(a.replace(/^v/, ''), b.replace(/^v/, ''));

const pep440Valid = memo((v: string): string => {
  const t = v.trim();
  if (pep440.valid(t) === null) throw new VersionError(`"${v.slice(0, 60)}" is not a PEP 440 version`);
  return t;
});

const gemValid = memo((v: string): string => {
  const t = v.trim();
  if (gem.valid(t) === null) throw new VersionError(`"${v.slice(0, 60)}" is not a RubyGems version`);
  return t;
});

/** RubyGems Gem::Version ordering (by `@renovatebot/ruby-semver`). Throws VersionError for invalid versions. */
export const compareRubyGems: Comparator = (a, b) => {
  const x = gemValid(a);
  const y = gemValid(b);
  return gem.eq(x, y) ? 0 : gem.lt(x, y) ? -1 : 1;
};

/** PEP 440 ordering (epoch, release, pre/post/dev, local). Throws VersionError for invalid versions. */
export const comparePep440: Comparator = (a, b) => pep440.compare(pep440Valid(a), pep440Valid(b));

// ---- Maven ComparableVersion --------------------------------------------------------------------------

type MvnItem = { t: 'int'; v: bigint } | { t: 'str'; v: string } | { t: 'list'; v: MvnItem[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };

function qualifierKey(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i >= 0 ? String(i) : `${QUALIFIERS.length}-${q}`;
}

function strItem(s: string, followedByDigit: boolean): MvnItem {
  let v = s;
  const SHORT: Record<string, string> = { a: 'alpha', b: 'beta', m: 'milestone' };
  if (followedByDigit && v.length === 1 && Object.hasOwn(SHORT, v)) v = SHORT[v]!;
  if (Object.hasOwn(ALIASES, v)) v = ALIASES[v]!;
  return { t: 'str', v };
}

function isNull(item: MvnItem): boolean {
  if (item.t === 'int') return item.v === 0n;
  if (item.t === 'str') return qualifierKey(item.v) === qualifierKey('');
  return item.v.length === 0;
}

function normalizeList(list: MvnItem[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const last = list[i]!;
    if (isNull(last)) list.splice(i, 1);
    else if (last.t !== 'list') break;
  }
}

function parseMaven(version: string): MvnItem {
  const v = version.trim().toLowerCase();
  const root: MvnItem[] = [];
  let list = root;
  const stack: MvnItem[][] = [root];
  let isDigit = false;
  let start = 0;
  const push = (tok: string, nextIsDigit: boolean) => {
    if (isDigit) list.push({ t: 'int', v: BigInt(tok.replace(/^0+(?=\d)/, '')) });
    else list.push(strItem(tok, nextIsDigit));
  };
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '.') {
      if (i === start) list.push({ t: 'int', v: 0n });
      else push(v.slice(start, i), false);
      start = i + 1;
    } else if (c === '-') {
      if (i === start) list.push({ t: 'int', v: 0n });
      else push(v.slice(start, i), false);
      start = i + 1;
      const sub: MvnItem[] = [];
      list.push({ t: 'list', v: sub });
      list = sub;
      stack.push(sub);
    } else if (c >= '0' && c <= '9') {
      if (!isDigit && i > start) {
        list.push(strItem(v.slice(start, i), true));
        start = i;
        const sub: MvnItem[] = [];
        list.push({ t: 'list', v: sub });
        list = sub;
        stack.push(sub);
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        push(v.slice(start, i), false);
        start = i;
        const sub: MvnItem[] = [];
        list.push({ t: 'list', v: sub });
        list = sub;
        stack.push(sub);
      }
      isDigit = false;
    }
  }
  if (v.length > start) push(v.slice(start), false);
  for (let i = stack.length - 1; i >= 0; i--) normalizeList(stack[i]!);
  return { t: 'list', v: root };
}

function cmpMvn(a: MvnItem | undefined, b: MvnItem | undefined): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return -cmpMvn(b, undefined);
  if (b === undefined) {
    if (a.t === 'int') return a.v === 0n ? 0 : 1;
    if (a.t === 'str') return cmpStr(qualifierKey(a.v), qualifierKey(''));
    if (a.v.length === 0) return 0;
    return cmpMvn(a.v[0], undefined);
  }
  if (a.t === 'int') {
    if (b.t === 'int') return cmpBig(a.v, b.v);
    return 1; // int > string, int > list
  }
  if (a.t === 'str') {
    if (b.t === 'int') return -1;
    if (b.t === 'str') return cmpStr(qualifierKey(a.v), qualifierKey(b.v));
    return -1; // string < list
  }
  if (b.t === 'int') return -1;
  if (b.t === 'str') return 1;
  const n = Math.max(a.v.length, b.v.length);
  for (let i = 0; i < n; i++) {
    const l = a.v[i];
    const r = b.v[i];
    const c = l === undefined ? -cmpMvn(r, undefined) : cmpMvn(l, r);
    if (c !== 0) return c;
  }
  return 0;
}

const mavenCached = memo(parseMaven);

export const compareMaven: Comparator = (a, b) => {
  if (a.trim() === '' || b.trim() === '') throw new VersionError('empty Maven version');
  return cmpMvn(mavenCached(a), mavenCached(b));
};

// ---- Debian (dpkg) -------------------------------------------------------------------------------------

function debOrder(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !/\d/.test(a[i]!)) || (j < b.length && !/\d/.test(b[j]!))) {
      const ac = i < a.length && !/\d/.test(a[i]!) ? a[i] : undefined;
      const bc = j < b.length && !/\d/.test(b[j]!) ? b[j] : undefined;
      const d = debOrder(ac) - debOrder(bc);
      if (d !== 0) return d;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (i < a.length && /\d/.test(a[i]!) && j < b.length && /\d/.test(b[j]!)) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && /\d/.test(a[i]!)) return 1;
    if (j < b.length && /\d/.test(b[j]!)) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

function parseDeb(v: string): [number, string, string] {
  const s = v.trim();
  if (s === '' || /\s/.test(s)) throw new VersionError(`"${v.slice(0, 60)}" is not a Debian version`);
  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (!/^\d+$/.test(e)) throw new VersionError(`"${v.slice(0, 60)}" has a bad Debian epoch`);
    epoch = Number(e);
    rest = s.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (!/^\d/.test(upstream) || !/^[A-Za-z0-9.+~:-]+$/.test(upstream)) throw new VersionError(`"${v.slice(0, 60)}" is not a Debian version`);
  return [epoch, upstream, revision];
}

export const compareDebian: Comparator = (a, b) => {
  const x = parseDeb(a);
  const y = parseDeb(b);
  if (x[0] !== y[0]) return x[0] - y[0];
  const c = verrevcmp(x[1], y[1]);
  if (c !== 0) return c;
  return verrevcmp(x[2], y[2]);
};

// ---- Alpine (apk) ---------------------------------------------------------------------------------------
//
// apk-tools' version format (apk_version_compare): numbers separated by dots, an optional single letter,
// any number of suffixes `_alpha|_beta|_pre|_rc` (before the release) or `_cvs|_svn|_git|_hg|_p` (after it),
// each with an optional number, and an optional `-rN` package revision. No maintained npm implementation
// exists; anything outside this grammar throws VersionError (the match is then undecided, never dropped).

const APK_RE = /^(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(?:-r(\d+))?$/;
const APK_SUFFIX_RANK: Readonly<Record<string, number>> = { alpha: -4, beta: -3, pre: -2, rc: -1, cvs: 1, svn: 2, git: 3, hg: 4, p: 5 };

interface ApkVersion {
  readonly nums: readonly bigint[];
  readonly letter: string;
  readonly suffixes: readonly (readonly [number, bigint])[];
  readonly rev: bigint;
}

function parseApk(v: string): ApkVersion {
  const m = APK_RE.exec(v.trim());
  if (!m) throw new VersionError(`"${v.slice(0, 60)}" is not an Alpine (apk) version`);
  const suffixes = (m[3] ?? '')
    .split('_')
    .filter(Boolean)
    .map((x): readonly [number, bigint] => {
      const k = /^([a-z]+)(\d*)$/.exec(x)!;
      return [APK_SUFFIX_RANK[k[1]!]!, BigInt(k[2] || '0')];
    });
  return { nums: m[1]!.split('.').map((n) => BigInt(n)), letter: m[2] ?? '', suffixes, rev: BigInt(m[4] ?? '0') };
}

const apkCached = memo(parseApk);

export const compareApk: Comparator = (a, b) => {
  const x = apkCached(a);
  const y = apkCached(b);
  for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
    // a missing component sorts first: 1.0 < 1.0.0 < 1.0.1 (apk: the longer version wins)
    if (x.nums[i] === undefined) return -1;
    if (y.nums[i] === undefined) return 1;
    const c = cmpBig(x.nums[i]!, y.nums[i]!);
    if (c !== 0) return c;
  }
  if (x.letter !== y.letter) return cmpStr(x.letter, y.letter);
  for (let i = 0; i < Math.max(x.suffixes.length, y.suffixes.length); i++) {
    const p = x.suffixes[i] ?? [0, 0n];
    const q = y.suffixes[i] ?? [0, 0n];
    if (p[0] !== q[0]) return p[0] < q[0] ? -1 : 1;
    const c = cmpBig(p[1], q[1]);
    if (c !== 0) return c;
  }
  return cmpBig(x.rev, y.rev);
};

// ---- dispatch -----------------------------------------------------------------------------------------

/**
 * The comparator for an OSV range: `SEMVER` ranges always use SemVer; `ECOSYSTEM` ranges use the
 * ecosystem's scheme, or undefined when this version of cra-gate cannot order that ecosystem correctly.
 */
export function comparatorFor(rangeType: string, ecosystem: string): Comparator | undefined {
  if (rangeType === 'SEMVER') return (a, b) => compareSemver(a.replace(/^v/, ''), b.replace(/^v/, ''));
  if (rangeType !== 'ECOSYSTEM') return undefined;
  const eco = ecosystem.split(':')[0]!;
  switch (eco) {
    case 'npm':
    case 'crates.io':
    case 'Hex':
    case 'Pub':
    case 'NuGet':
    case 'SwiftURL':
      return compareSemver;
    case 'Go':
      return compareGo;
    case 'PyPI':
      return comparePep440;
    case 'RubyGems':
      return compareRubyGems;
    case 'Maven':
      return compareMaven;
    case 'Debian':
    case 'Ubuntu':
      return compareDebian;
    case 'Alpine':
      return compareApk;
    default:
      return undefined;
  }
}
