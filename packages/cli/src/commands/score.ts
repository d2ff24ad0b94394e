import { ndjsonLines } from '@kapkit/core';
import {
  createInstrumentRegistry,
  type InstrumentRegistry,
  type SafetyFlag,
  safeScoreResponse,
  UnknownInstrumentError,
} from '@kapkit/core/instruments';
import { CliError, type CliIO, inputName, openInput, write } from '../io.js';

/** One output line of `kapkit score`. */
export interface ScoreLine {
  readonly id: string | null;
  readonly instrument: string;
  readonly status: 'complete' | 'prorated' | 'not-scorable' | 'invalid';
  readonly total: number | null;
  readonly severity: string | null;
  readonly safetyFlags: readonly Pick<SafetyFlag, 'rule' | 'kind' | 'item' | 'value' | 'message'>[];
  readonly reason?: string;
  readonly errors?: readonly { line: number; path: string; code: string; message: string }[];
}

function flagsOut(flags: readonly SafetyFlag[]): ScoreLine['safetyFlags'] {
  return flags.map(({ rule, kind, item, value, message }) => ({ rule, kind, item, value, message }));
}

export interface ScoreOptions {
  readonly instrument: string;
  readonly registry?: InstrumentRegistry;
}

/**
 * `kapkit score --instrument <id> [file|-]`: NDJSON in (`{"id"?, "responses": [...]}` per line), NDJSON out,
 * one line per input record in order. Returns the exit code: 1 if any line was invalid, else 0.
 */
export async function scoreCommand(
  file: string | undefined,
  options: ScoreOptions,
  io: CliIO,
): Promise<number> {
  const registry = options.registry ?? createInstrumentRegistry();
  let definition: ReturnType<InstrumentRegistry['get']>;
  try {
    definition = registry.get(options.instrument);
  } catch (e) {
    if (e instanceof UnknownInstrumentError) throw new CliError(e.message);
    throw e;
  }
  const input = await openInput(file, io);
  const counts = { records: 0, complete: 0, prorated: 0, notScorable: 0, invalid: 0, flagged: 0 };
  for await (const entry of ndjsonLines(input)) {
    counts.records++;
    let out: ScoreLine;
    if (!entry.ok) {
      out = {
        id: null,
        instrument: definition.id,
        status: 'invalid',
        total: null,
        severity: null,
        safetyFlags: [],
        errors: [
          {
            line: entry.line,
            path: '(line)',
            code: 'invalid-json',
            message: `line ${entry.line}: ${entry.message}`,
          },
        ],
      };
    } else {
      const value = entry.value as { id?: unknown } | null;
      const id =
        typeof value === 'object' && value !== null && typeof value.id === 'string' ? value.id : null;
      const r = safeScoreResponse(definition, entry.value);
      if (r.ok) {
        const s = r.value;
        out = {
          id,
          instrument: definition.id,
          status: s.status,
          total: s.total,
          severity: s.severity,
          safetyFlags: flagsOut(s.safetyFlags),
          ...(s.reason ? { reason: s.reason } : {}),
        };
      } else {
        out = {
          id,
          instrument: definition.id,
          status: 'invalid',
          total: null,
          severity: null,
          safetyFlags: flagsOut(r.safetyFlags),
          errors: r.issues.map((i) => ({
            line: entry.line,
            path:
              i.path
                .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
                .join('')
                .replace(/^\./, '') || '(root)',
            code: i.code,
            message: `line ${entry.line}: ${i.message}`,
          })),
        };
      }
    }
    if (out.status === 'invalid') counts.invalid++;
    else if (out.status === 'complete') counts.complete++;
    else if (out.status === 'prorated') counts.prorated++;
    else counts.notScorable++;
    if (out.safetyFlags.some((f) => f.kind === 'positive')) counts.flagged++;
    await write(io.stdout, `${JSON.stringify(out)}\n`);
  }
  if (counts.records === 0) throw new CliError(`no records in ${inputName(file)}`, 1);
  await write(
    io.stderr,
    `kapkit score: ${counts.records} records (${definition.name}): ${counts.complete} complete, ${counts.prorated} prorated, ${counts.notScorable} not scorable, ${counts.invalid} invalid; ${counts.flagged} with a positive safety flag\n`,
  );
  return counts.invalid > 0 ? 1 : 0;
}
