import type * as z from 'zod';
import { episodeEventSchema, upcastEvent } from './events.js';
import { defaultPermissions, type PermissionTable } from './permissions.js';

/**
 * The event schemas compiled once into plain checking functions, for the bulk paths (every event of a log is
 * checked before the episode machine sees it). Built from the zod schemas themselves (`episodeEventSchema`), so
 * there is one definition: the compiler reads each schema's definition (objects, strings, numbers, enums,
 * literals, arrays, records, optional, nullable, defaults, the discriminated union) and its checks (lengths,
 * bounds, integer, the ISO date-time pattern). A valid event comes out as zod's output would: unknown keys
 * dropped, defaults applied, keys in the schema's order. Anything it cannot decide exactly as zod does goes to
 * zod: an invalid event (so its issues are zod's), a value `undefined` or a `__proto__` key. A schema construct
 * the compiler does not know disables it altogether (zod then checks every event). Tests check it against zod on
 * valid and mutated events.
 */

const FAIL: unique symbol = Symbol('invalid');
type Check = (input: unknown) => unknown;

class Unsupported extends Error {}

interface Def {
  readonly type: string;
  readonly checks?: readonly { readonly _zod: { readonly def: Record<string, unknown> } }[];
  readonly [key: string]: unknown;
}

const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

function lengthChecks(def: Def): { min: number; max: number } {
  let min = 0;
  let max = Number.POSITIVE_INFINITY;
  for (const c of def.checks ?? []) {
    // zod's length checks carry a `when` (the value has a length), always true once the type is checked.
    const d = c._zod.def;
    if (d.check === 'min_length') min = Math.max(min, d.minimum as number);
    else if (d.check === 'max_length') max = Math.min(max, d.maximum as number);
    else throw new Unsupported(`check ${String(d.check)}`);
  }
  return { min, max };
}

function compile(schema: unknown): Check {
  const def = defOf(schema);
  switch (def.type) {
    case 'string': {
      const { min, max } = lengthChecks(def);
      let pattern: RegExp | null = null;
      if (def.format !== undefined) {
        if (!(def.pattern instanceof RegExp) || def.pattern.global || def.pattern.sticky) {
          throw new Unsupported('string format');
        }
        pattern = def.pattern;
      }
      return (x) =>
        typeof x === 'string' && x.length >= min && x.length <= max && (pattern === null || pattern.test(x))
          ? x
          : FAIL;
    }
    case 'number': {
      let lo = Number.NEGATIVE_INFINITY;
      let loInclusive = true;
      let hi = Number.POSITIVE_INFINITY;
      let hiInclusive = true;
      let safeInt = false;
      for (const c of def.checks ?? []) {
        const d = c._zod.def;
        if (d.when !== undefined) throw new Unsupported('conditional check');
        if (d.check === 'greater_than') {
          lo = d.value as number;
          loInclusive = d.inclusive as boolean;
        } else if (d.check === 'less_than') {
          hi = d.value as number;
          hiInclusive = d.inclusive as boolean;
        } else if (d.check === 'number_format' && d.format === 'safeint') safeInt = true;
        else throw new Unsupported(`number check ${String(d.check)}`);
      }
      return (x) =>
        typeof x === 'number' &&
        Number.isFinite(x) &&
        (!safeInt || Number.isSafeInteger(x)) &&
        (loInclusive ? x >= lo : x > lo) &&
        (hiInclusive ? x <= hi : x < hi)
          ? x
          : FAIL;
    }
    case 'boolean':
      if (def.checks?.length) throw new Unsupported('boolean checks');
      return (x) => (typeof x === 'boolean' ? x : FAIL);
    case 'literal': {
      const values = def.values as readonly unknown[];
      return (x) => (values.includes(x) ? x : FAIL);
    }
    case 'enum': {
      const values = new Set(Object.values(def.entries as Record<string, unknown>));
      return (x) => ((typeof x === 'string' || typeof x === 'number') && values.has(x) ? x : FAIL);
    }
    case 'nullable': {
      const inner = compile(def.innerType);
      return (x) => (x === null ? null : inner(x));
    }
    case 'array': {
      const { min, max } = lengthChecks(def);
      const element = compile(def.element);
      return (x) => {
        if (!Array.isArray(x) || x.length < min || x.length > max) return FAIL;
        const out = new Array(x.length);
        for (let i = 0; i < x.length; i++) {
          const v = element(x[i]);
          if (v === FAIL) return FAIL;
          out[i] = v;
        }
        return out;
      };
    }
    case 'record': {
      if (defOf(def.keyType).type !== 'string' || defOf(def.keyType).checks?.length) {
        throw new Unsupported('record key');
      }
      const value = compile(def.valueType);
      return (x) => {
        if (!isObject(x)) return FAIL;
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(x)) {
          if (k === '__proto__') return FAIL;
          const v = value(x[k]);
          if (v === FAIL) return FAIL;
          out[k] = v;
        }
        return out;
      };
    }
    case 'object':
      return compileObject(def);
    case 'union': {
      const key = def.discriminator as string | undefined;
      if (key === undefined) throw new Unsupported('plain union');
      const byValue = new Map<unknown, Check>();
      for (const option of def.options as readonly unknown[]) {
        const d = defOf(option);
        if (d.type !== 'object') throw new Unsupported('union option');
        const tag = defOf((d.shape as Record<string, unknown>)[key]);
        if (tag.type !== 'literal') throw new Unsupported('union discriminator');
        const check = compileObject(d);
        for (const v of tag.values as readonly unknown[]) byValue.set(v, check);
      }
      return (x) => {
        if (!isObject(x)) return FAIL;
        const check = byValue.get(x[key]);
        return check === undefined ? FAIL : check(x);
      };
    }
    default:
      throw new Unsupported(def.type);
  }
}

function compileObject(def: Def): Check {
  if (def.checks?.length) throw new Unsupported('object checks');
  const catchall = def.catchall === undefined ? null : defOf(def.catchall).type;
  if (catchall !== null && catchall !== 'never') throw new Unsupported('object catchall');
  const strict = catchall === 'never';
  const fields = Object.entries(def.shape as Record<string, unknown>).map(([key, s]) => {
    const d = defOf(s);
    if (d.type === 'optional') return { key, check: compile(d.innerType), mode: 'optional' as const };
    if (d.type === 'default') {
      const holder = d as unknown as { readonly defaultValue: unknown };
      return {
        key,
        check: compile(d.innerType),
        mode: 'default' as const,
        fallback: () => holder.defaultValue,
      };
    }
    return { key, check: compile(s), mode: 'required' as const };
  });
  const known = new Set(fields.map((f) => f.key));
  return (x) => {
    if (!isObject(x)) return FAIL;
    if (strict) for (const k of Object.keys(x)) if (!known.has(k)) return FAIL;
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const v = x[f.key];
      if (v === undefined) {
        // `undefined` given as a value (not JSON) is left to zod, which keeps such keys.
        if (Object.hasOwn(x, f.key)) return FAIL;
        if (f.mode === 'required') return FAIL;
        if (f.mode === 'default') out[f.key] = f.fallback?.();
        continue;
      }
      const parsed = f.check(v);
      if (parsed === FAIL) return FAIL;
      out[f.key] = parsed;
    }
    return out;
  };
}

let compiled: Check | null | undefined;
let notCompiled: string | null = null;
function compiledEventCheck(): Check | null {
  if (compiled === undefined) {
    try {
      compiled = compile(episodeEventSchema);
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      compiled = null;
      notCompiled = e.message;
    }
  }
  return compiled;
}

/**
 * Whether the compiled check is in use: null when it is, else the schema construct it does not know (zod then
 * checks every event).
 */
export function eventValidatorFallback(): string | null {
  compiledEventCheck();
  return notCompiled;
}

/**
 * `parseEvent` with the compiled check first: the same result as `episodeEventSchema.safeParse(upcastEvent(…))`
 * (success and data, or zod's error for an invalid event), without zod's cost for valid events.
 */
export function parseEventFast(
  input: unknown,
  table: PermissionTable = defaultPermissions,
): z.ZodSafeParseResult<z.output<typeof episodeEventSchema>> {
  const value = upcastEvent(input, table);
  const check = compiledEventCheck();
  if (check !== null) {
    const out = check(value);
    if (out !== FAIL) return { success: true, data: out as z.output<typeof episodeEventSchema> };
  }
  return episodeEventSchema.safeParse(value);
}
