/**
 * CEL for `x-kubernetes-validations`: the CRD rules are evaluated with @marcbachmann/cel-js, the same
 * expressions the API server runs, with `self` bound to the value at the schema node the rule is attached
 * to (`oldSelf` is absent: every offline manifest is a create).
 *
 * Values are converted the way the API server hands them to CEL: `integer` fields become CEL ints (BigInt),
 * `number` fields doubles, objects maps, arrays lists.
 *
 * Library coverage (checked by the unit tests against every rule in crds/): `has()`, `all`/`exists` macros,
 * `matches()`, `substring()`, `contains()`, `endsWith()`, `int()`, `size()`, `duration()` and duration
 * comparison are built in. Kubernetes-specific CEL libraries (`url()`, `isURL()`, `quantity()`, `ip()`,
 * `cidr()`, `format.*`, lists `isSorted()`/`sum()`/`indexOf()`) are NOT provided by the library; a rule using one
 * fails to compile and `compileRule` throws, so no rule is ever skipped silently. `matches()` uses JavaScript
 * regular expressions, which agree with RE2 on the syntax the CRDs use (anchors, classes, groups, repetition).
 */
import { Environment } from '@marcbachmann/cel-js';

export interface CompiledRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  readonly fieldPath?: string;
  readonly reason?: string;
  evaluate(self: unknown): unknown;
  evaluateMessage?(self: unknown): unknown;
}

let env: Environment | undefined;

function celEnvironment(): Environment {
  if (!env) {
    env = new Environment({ homogeneousAggregateLiterals: false }).registerVariable('self', 'dyn');
  }
  return env;
}

export interface RuleSpec {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: string;
  optionalOldSelf?: boolean;
}

/** Parses and type-checks a rule; throws (naming the rule) when the library cannot compile it. */
export function compileRule(spec: RuleSpec): CompiledRule {
  const e = celEnvironment();
  const compile = (src: string): ((ctx: Record<string, unknown>) => unknown) => {
    try {
      const parsed = e.parse(src) as unknown as (ctx: Record<string, unknown>) => unknown;
      return parsed;
    } catch (err) {
      throw new Error(`CEL rule does not compile: ${src}: ${(err as Error).message}`, { cause: err });
    }
  };
  if (/\boldSelf\b/.test(spec.rule) && !spec.optionalOldSelf) {
    // Transition rules are not evaluated on create, by the API server either.
    return { ...spec, evaluate: () => true };
  }
  const fn = compile(spec.rule);
  const msgFn = spec.messageExpression ? compile(spec.messageExpression) : undefined;
  return {
    ...spec,
    evaluate: (self) => fn({ self }),
    ...(msgFn ? { evaluateMessage: (self: unknown) => msgFn({ self }) } : {}),
  };
}
