/**
 * JSON values that JSON.parse accepts but no JSON schema should: numbers that overflow to ±Infinity
 * (`1e999`, `-1e999`). JSON itself has no non-finite numbers (RFC 8259 §6), yet `JSON.parse('1e999')` yields
 * Infinity, and Ajv's `integer`/`number` keywords let Infinity through. Callers treat a hit as schema-invalid.
 */

import { pointerSegment as seg } from './json-pointer.ts';

/**
 * JSON pointers of up to `max` non-finite numbers in a parsed JSON value, in document order. Iterative (no
 * recursion on hostile nesting); visits each node once.
 */
export function nonFinitePointers(value: unknown, max = 20): string[] {
  // The common case (none) without building a pointer string per node; pointers only when there is a hit.
  if (!hasNonFinite(value)) return [];
  const out: string[] = [];
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0 && out.length < max) {
    const [v, ptr] = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) out.push(ptr);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${ptr}/${i}`]);
    } else if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) stack.push([(v as Record<string, unknown>)[keys[i]!], `${ptr}/${seg(keys[i]!)}`]);
    }
  }
  return out;
}

/** Whether a parsed JSON value holds a non-finite number anywhere. Iterative, no allocation per node. */
function hasNonFinite(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return true;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
    } else if (typeof v === 'object' && v !== null) {
      for (const k in v) if (Object.hasOwn(v, k)) stack.push((v as Record<string, unknown>)[k]);
    }
  }
  return false;
}

/** A JSON object (not null, not an array): the one type guard for untrusted parsed JSON. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `JSON.parse` whose failure becomes the caller's own coded error: `fail` gets the parser's message and returns the
 * error to throw (e.g. RegistryContentInvalid, FeedFormatError). The one JSON-parse helper for untrusted text.
 */
export function parseJsonOrThrow(text: string, fail: (parserMessage: string) => Error): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw fail(err instanceof Error ? err.message : String(err));
  }
}
