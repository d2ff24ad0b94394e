// Generates docs/instruments.md from the built-in instrument definitions (`builtinInstruments` in
// @kapkit/core), so that the documentation cannot drift from the code.
//
//   node scripts/gen-instrument-docs.mjs           write docs/instruments.md
//   node scripts/gen-instrument-docs.mjs --check   exit 1 if docs/instruments.md is not what would be written
//
// Reads the built package (packages/core/dist): run `npm run build` first. The output is deterministic (no
// dates, no machine details), so the check can run in CI.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkArgument, code, dash, esc, importBuilt, root, table, writeOrCheck } from './lib/generator.mjs';

const outFile = join(root, 'docs', 'instruments.md');
const coreDir = join(root, 'packages', 'core');
const instrumentsSrc = join(coreDir, 'src', 'instruments');

const check = checkArgument('gen-instrument-docs');
const { builtinInstruments } = await importBuilt(
  'gen-instrument-docs',
  join(coreDir, 'dist', 'index.js'),
  instrumentsSrc,
);

// ---------------------------------------------------------------------------------------------------------
// Formatting helpers

/** A sentence: the text with a full stop unless it already ends with one. */
function sentence(text) {
  const t = esc(text).trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

const OP = { '>=': '≥', '>': '>', '<=': '≤', '<': '<' };
const DIRECTION = { 'higher-is-worse': 'higher is worse', 'higher-is-better': 'higher is better' };
const PURPOSE = { outcome: 'outcome', session: 'session' };

const num = (n) => String(n);
const range = (min, max) => `${num(min)}–${num(max)}`;

/** "1–5" for a run of consecutive numbers, else "1, 3, 7". */
function itemList(items) {
  const sorted = [...items];
  const consecutive = sorted.length > 2 && sorted.every((n, i) => i === 0 || n === sorted[i - 1] + 1);
  return consecutive ? `${sorted[0]}–${sorted[sorted.length - 1]}` : sorted.join(', ');
}

function itemScale(def, index) {
  return def.items[index]?.scale ?? def.scale;
}

/** "9 × 0–3" (items × answer scale). */
function itemsByScale(def) {
  const scales = new Set(def.items.map((_, i) => range(itemScale(def, i).min, itemScale(def, i).max)));
  return `${def.items.length} × ${scales.size === 1 ? [...scales][0] : 'mixed scales'}`;
}

/** The source file that defines an instrument, found by its `id: '…'` line (omitted when not found). */
const sourceFiles = existsSync(instrumentsSrc)
  ? readdirSync(instrumentsSrc)
      .filter((f) => f.endsWith('.ts'))
      .sort()
      .map((f) => ({ path: join(instrumentsSrc, f), text: readFileSync(join(instrumentsSrc, f), 'utf8') }))
  : [];
function definedIn(def) {
  const hit = sourceFiles.find((f) => f.text.includes(`id: '${def.id}',`));
  return hit ? relative(root, hit.path).split('\\').join('/') : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Per-instrument sections

function scaleBlock(scale, textShipped) {
  if (scale.options && scale.options.length > 0) {
    return table(
      ['Value', 'Label', 'LOINC answer code'],
      scale.options.map((o) => [num(o.value), esc(o.label), o.loinc ? code(o.loinc) : dash]),
    );
  }
  if (scale.anchors) {
    return `Integers from ${num(scale.min)} to ${num(scale.max)} (a numeric or visual-analogue scale). End labels: ${num(scale.min)} = “${esc(scale.anchors.min)}”, ${num(scale.max)} = “${esc(scale.anchors.max)}”.`;
  }
  return `Integers from ${num(scale.min)} to ${num(scale.max)}. No answer labels are defined${textShipped ? '' : ': the licensed user supplies them with the item text'}.`;
}

function totalRuleWords(def) {
  const { scoring } = def;
  const factor = scoring.factor && scoring.factor !== 1 ? `, multiplied by ${num(scoring.factor)}` : '';
  if (scoring.groups) {
    return `Total = ${scoring.method} of ${scoring.groups.length} domain scores${factor}. A domain made of several items scores the highest answer among them (reduced by max); a domain counts as answered when any of its items is answered.`;
  }
  return `Total = ${scoring.method} of the ${def.items.length} item answers${factor}.`;
}

function missingWords(rule, units, unitWord, method, factor) {
  if (rule.maxMissing === 0) {
    const all =
      units === 1
        ? `The ${unitWord.replace(/s$/, '')}`
        : units === 2
          ? `Both ${unitWord}`
          : `All ${units} ${unitWord}`;
    return `${all} must be answered; with any unanswered the total is not scorable (status \`not-scorable\`, total \`null\`).`;
  }
  const howMany = `Up to ${rule.maxMissing} of the ${units} ${unitWord} may be unanswered`;
  const after = `With more than ${rule.maxMissing} unanswered the total is not scorable.`;
  if (method === 'mean') {
    return `${howMany}: the total is then the mean of the answered ${unitWord}${factor}, status \`prorated\`. ${after}`;
  }
  return `${howMany}: the total is then prorated, the mean of the answered ${unitWord} × ${units}${factor}, kept exact (never rounded), status \`prorated\`. ${after}`;
}

function scoreRuleWords(s) {
  const factor = s.scoring.factor && s.scoring.factor !== 1 ? ` × ${num(s.scoring.factor)}` : '';
  if (s.scoring.groups) {
    const groups = s.scoring.groups.map((g) => `${esc(g.label)}: max of items ${itemList(g.items)}`);
    return `${s.scoring.method} of domains (${groups.join('; ')})${factor}`;
  }
  return `${s.scoring.method}${factor}`;
}

function section(def) {
  const ctx = {
    textShipped: def.licence.itemTextIncluded,
    units: def.scoring.groups ? def.scoring.groups.length : def.items.length,
    unitWord: def.scoring.groups ? 'domains' : 'items',
    factor: def.scoring.factor && def.scoring.factor !== 1 ? ` (× ${num(def.scoring.factor)})` : '',
    notShipped: 'user-supplied (licence: text not shipped)',
  };
  return [
    ...headerLines(def),
    ...licenceLines(def, ctx),
    ...loincLines(def),
    ...scoringLines(def, ctx),
    ...bandLines(def),
    ...cutoffLines(def),
    ...extraScoreLines(def),
    ...safetyRuleLines(def),
    ...changeConstantLines(def),
    ...outcomeLines(def),
    ...itemLines(def, ctx),
    ...answerOptionLines(def, ctx),
    ...supplementaryLines(def, ctx),
    ...referenceLines(def),
  ].join('\n');
}

/** The heading and what the instrument is of an instrument's section. */
function headerLines(def) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push(`<a id="${def.id}"></a>`, '', `## ${esc(def.name)}: ${esc(def.title)}`, '');
  push(
    `- **Id**: ${code(def.id)}`,
    `- **Measures**: ${esc(def.construct)}`,
    `- **Purpose**: ${PURPOSE[def.purpose] ?? def.purpose}${def.purpose === 'session' ? ' (describes one dosing session; not tracked as an outcome)' : ' (tracked over a course of treatment)'}`,
    `- **Direction**: ${DIRECTION[def.direction] ?? def.direction}`,
    `- **Recall period**: ${esc(def.recall)}`,
  );
  if (def.stem) push(`- **Question stem**: “${esc(def.stem)}”`);
  push(`- **Definition version**: ${esc(def.version)}`);
  const file = definedIn(def);
  if (file) push(`- **Defined in**: [${file}](../${file})`);
  push('');

  return out;
}

/** The Licence subsection of an instrument's section. */
function licenceLines(def, ctx) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### Licence', '');
  push(`- **Holder**: ${esc(def.licence.holder)}`, `- **Terms**: ${esc(def.licence.terms)}`);
  if (def.licence.url) push(`- **URL**: <${def.licence.url}>`);
  push(
    `- **Item text shipped by kapkit**: ${ctx.textShipped ? 'yes' : 'no (scoring only: the user supplies the item text under its licence)'}`,
    '',
  );

  return out;
}

/** The LOINC subsection of an instrument's section. */
function loincLines(def) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### LOINC', '');
  push(
    `- **Panel**: ${def.loinc?.panel ? code(def.loinc.panel) : 'none recorded'}`,
    `- **Total score**: ${def.loinc?.total ? code(def.loinc.total) : 'none recorded'}`,
    '',
  );

  return out;
}

/** The Scoring subsection of an instrument's section. */
function scoringLines(def, ctx) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### Scoring', '');
  push(`${totalRuleWords(def)} Range ${range(def.range.min, def.range.max)}.`, '');
  if (def.scoring.groups) {
    push(
      table(
        ['Domain', 'Label', 'Items'],
        def.scoring.groups.map((g) => [code(g.id), esc(g.label), itemList(g.items)]),
      ),
      '',
    );
  }
  push(
    `**Missing answers**: ${missingWords(def.missing, ctx.units, ctx.unitWord, def.scoring.method, ctx.factor)}`,
    `Source: ${sentence(def.missing.source)}`,
    '',
  );

  return out;
}

/** The Severity bands subsection of an instrument's section. */
function bandLines(def) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### Severity bands', '');
  if (def.bands && def.bands.length > 0) {
    push(
      'A band covers totals from its lower bound up to the next band’s lower bound, so a prorated, non-integer total falls in exactly one band.',
      '',
      table(
        ['Band', 'Label', 'Total'],
        def.bands.map((b) => [code(b.id), esc(b.label), range(b.min, b.max)]),
      ),
      '',
    );
    if (def.bandsSource) push(`Source: ${sentence(def.bandsSource)}`, '');
  } else {
    push('None defined.', '');
  }

  return out;
}

/** The Cutoffs subsection of an instrument's section. */
function cutoffLines(def) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### Cutoffs', '');
  const cutoffs = def.cutoffs ?? [];
  const composites = def.compositeCutoffs ?? [];
  if (cutoffs.length === 0 && composites.length === 0) {
    push('None defined.', '');
  } else {
    const rows = cutoffs.map((c) => [
      code(c.id),
      esc(c.label),
      `${c.score === 'total' ? 'total' : code(c.score)} ${OP[c.op] ?? c.op} ${num(c.value)}`,
      esc(c.source),
    ]);
    for (const c of composites) {
      rows.push([code(c.id), esc(c.label), `all of ${c.allOf.map(code).join(', ')}`, esc(c.source)]);
    }
    push(table(['Cutoff', 'Label', 'Met when', 'Source'], rows), '');
  }

  return out;
}

/** The Extra scores subsection of an instrument's section. */
function extraScoreLines(def) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### Extra scores', '');
  const scores = def.scores ?? [];
  if (scores.length === 0) {
    push('None defined.', '');
  } else {
    push(
      table(
        ['Score', 'Label', 'Items', 'Scoring', 'Range', 'Missing answers', 'Source'],
        scores.map((s) => [
          code(s.id),
          esc(s.label),
          itemList(s.items),
          scoreRuleWords(s),
          range(s.min, s.max),
          s.missing
            ? `up to ${s.missing.maxMissing} unanswered, ${s.scoring.method === 'mean' ? 'mean of the answered' : 'prorated'} (${esc(s.missing.source)})`
            : 'all items required',
          esc(s.source),
        ]),
      ),
      '',
    );
  }

  return out;
}

/** The Safety rules subsection of an instrument's section. */
function safetyRuleLines(def) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### Safety rules', '');
  const safety = def.safety ?? [];
  if (safety.length === 0) {
    push('None defined.', '');
  } else {
    for (const r of safety) {
      const item = def.items[r.item - 1];
      const unanswered = r.flagUnanswered
        ? ` Also raised, as a separate flag of kind \`unanswered\`, when item ${r.item} is left blank.`
        : '';
      push(
        `- ${code(r.id)}: raised when item ${r.item} (${code(item?.id ?? '?')}) is answered ${OP[r.op] ?? r.op} ${num(r.value)}, whatever the total.${unanswered}`,
        `  - Message: “${esc(r.message)}”`,
        `  - Source: ${sentence(r.source)}`,
      );
    }
    push('');
  }

  return out;
}

/** The Change constants subsection of an instrument's section. */
function changeConstantLines(def) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### Change constants', '');
  const ch = def.change ?? {};
  const changeLines = [];
  if (ch.reliability) {
    const kind = ch.reliability.kind === 'test-retest' ? 'test–retest' : 'internal consistency';
    changeLines.push(
      `- **Reliability**: r = ${num(ch.reliability.value)} (${kind}). Source: ${sentence(ch.reliability.source)}`,
    );
  }
  if (ch.fixedPoints) {
    changeLines.push(
      `- **Fixed-point reliable change**: ${num(ch.fixedPoints.value)} points. Source: ${sentence(ch.fixedPoints.source)}`,
    );
  }
  if (ch.mcid) {
    changeLines.push(
      `- **Minimal clinically important difference (MCID)**: ${num(ch.mcid.value)} points. Source: ${sentence(ch.mcid.source)}`,
    );
  }
  if (ch.norms) {
    changeLines.push(
      `- **General-population norms**: mean ${num(ch.norms.mean)}, SD ${num(ch.norms.sd)}. Source: ${sentence(ch.norms.source)}`,
    );
  }
  push(...(changeLines.length > 0 ? changeLines : ['None recorded.']), '');

  return out;
}

/** The Outcome definitions subsection of an instrument's section. */
function outcomeLines(def) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### Outcome definitions', '');
  const o = def.outcomes ?? {};
  push(
    o.response
      ? `- **Response**: a total ≤ ${num(o.response.fraction * 100)}% of the baseline total (baseline > 0). Source: ${sentence(o.response.source)}`
      : '- **Response**: not defined.',
    o.remission
      ? `- **Remission**: a total below ${num(o.remission.below)}. Source: ${sentence(o.remission.source)}`
      : '- **Remission**: not defined.',
    o.reliableChange
      ? `- **Reliable change**: Jacobson–Truax, |RCI| > ${num(o.reliableChange.critical)} with the reliability above. Source: ${sentence(o.reliableChange.source)}`
      : '- **Reliable change**: not defined.',
    '',
  );

  return out;
}

/** The Items subsection of an instrument's section. */
function itemLines(def, ctx) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### Items', '');
  const ownScale = def.items.some((it) => it.scale);
  push(
    table(
      ['#', 'Id', 'LOINC', 'Text', ...(ownScale ? ['Answer scale'] : [])],
      def.items.map((it, i) => [
        num(i + 1),
        code(it.id),
        it.loinc ? code(it.loinc) : dash,
        it.text ? esc(it.text) : `*${ctx.notShipped}*`,
        ...(ownScale ? [it.scale ? range(it.scale.min, it.scale.max) : 'default'] : []),
      ]),
    ),
    '',
  );

  return out;
}

/** The Answer options subsection of an instrument's section. */
function answerOptionLines(def, ctx) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### Answer options', '');
  push(scaleBlock(def.scale, ctx.textShipped), '');
  def.items.forEach((it, i) => {
    if (it.scale)
      push(
        `Item ${i + 1} (${code(it.id)}) has its own scale:`,
        '',
        scaleBlock(it.scale, ctx.textShipped),
        '',
      );
  });

  return out;
}

/** The Supplementary questions subsection of an instrument's section. */
function supplementaryLines(def, ctx) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### Supplementary questions', '');
  const supp = def.supplementary ?? [];
  if (supp.length === 0) {
    push('None.', '');
  } else {
    for (const q of supp) {
      push(
        `**${code(q.id)}**${q.loinc ? ` (LOINC ${code(q.loinc)})` : ''}: ${q.text ? `“${esc(q.text)}”` : ctx.notShipped} Asked with the instrument; not scored.${q.source ? ` Source: ${sentence(q.source)}` : ''}`,
        '',
        scaleBlock(q.scale, ctx.textShipped),
        '',
      );
    }
  }

  return out;
}

/** The References subsection of an instrument's section. */
function referenceLines(def) {
  const out = [];
  const push = (...lines) => out.push(...lines);
  push('### References', '');
  def.references.forEach((ref, i) => {
    push(`${i + 1}. ${esc(ref)}`);
  });
  push('');
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The page

function intro(defs) {
  const rows = defs.map((d) => [
    `[${esc(d.name)}](#${d.id})`,
    code(d.id),
    esc(d.construct),
    itemsByScale(d),
    `${range(d.range.min, d.range.max)}${d.scoring.method === 'mean' ? ' (mean)' : ''}`,
    DIRECTION[d.direction] ?? d.direction,
    PURPOSE[d.purpose] ?? d.purpose,
    d.licence.itemTextIncluded ? 'yes' : 'no',
  ]);
  return `# Instruments

<!-- Generated by scripts/gen-instrument-docs.mjs from builtinInstruments in @kapkit/core. Do not edit by hand:
     change the definition, rebuild, and run \`node scripts/gen-instrument-docs.mjs\`. \`npm test\` fails when
     this file is out of date. -->

This page describes every outcome measure ("instrument") that ships with kapkit: how it is scored, what its
bands and cutoffs are, where each number comes from, and under which licence it is used. It is generated
from the code, so what you read here is what kapkit computes.

## What an instrument definition is

An instrument is a questionnaire such as the PHQ-9: a fixed list of items, each answered on a small integer
scale, and rules that turn the answers into a score. In kapkit each instrument is one plain, declarative
object of type \`InstrumentDefinition\` (in \`packages/core/src/instruments/\`). It holds the items and their
answer options (with LOINC codes where they exist), the scoring rule, the missing-answer rule, severity
bands, cutoffs, extra scores (subscales, short forms), safety rules, reliable-change constants, the licence
and the references. Everything else is derived from that one object:

- the TypeScript type of a response (\`ResponsesOf<typeof phq9>\` is nine values of \`0 | 1 | 2 | 3 | null\`);
- the zod schema (\`responseSchema\`) and the JSON Schema, draft 2020-12 or draft-07 (\`toJsonSchema\`);
- the FHIR R4 Questionnaire (\`toFhirQuestionnaire\`);
- scoring, one record at a time (\`scoreResponse\`, \`safeScoreResponse\`) or in bulk (\`scoreBatch\`,
  \`scoreStream\`).

A response is \`{ id?, responses: [...], supplementary?: {...} }\`: one answer per item, in item order, with
\`null\` for an unanswered item.

### Adding your own instrument

Instruments whose text kapkit may not ship (for example the BDI-II, BAI or MADRS, which are copyrighted) can
be defined and registered by a user who holds a licence for them. \`defineInstrument\` checks the definition
for internal consistency (item ids, scales, bands that tile the range, cutoffs that refer to real scores, and
so on) and throws an \`InstrumentDefinitionError\` naming each problem:

\`\`\`ts
import { createInstrumentRegistry, defineInstrument, scoreResponse } from '@kapkit/core';

const bdi2 = defineInstrument({
  id: 'bdi2', // lowercase letters and digits
  name: 'BDI-II',
  title: 'Beck Depression Inventory, second edition',
  construct: 'Depression severity',
  purpose: 'outcome',
  direction: 'higher-is-worse',
  recall: 'past 2 weeks',
  version: '1',
  licence: { holder: 'Pearson', terms: 'Used under our clinic licence', itemTextIncluded: false },
  scale: { min: 0, max: 3 },
  items: Array.from({ length: 21 }, (_, i) => ({ id: \`bdi2_\${i + 1}\` })),
  scoring: { method: 'sum' },
  missing: { maxMissing: 0, method: 'prorate', source: 'our clinic rule: all items required' },
  range: { min: 0, max: 63 },
  bands: [
    { id: 'minimal', label: 'Minimal', min: 0, max: 13 },
    { id: 'mild', label: 'Mild', min: 14, max: 19 },
    { id: 'moderate', label: 'Moderate', min: 20, max: 28 },
    { id: 'severe', label: 'Severe', min: 29, max: 63 },
  ],
  bandsSource: 'Beck, Steer & Brown 1996 (BDI-II manual)',
  references: ['Beck AT, Steer RA, Brown GK. Manual for the Beck Depression Inventory-II. 1996.'],
});

const registry = createInstrumentRegistry({ instruments: [bdi2] }); // the built-ins plus yours
scoreResponse(registry.get('bdi2'), { responses: new Array(21).fill(1) }).severity; // 'moderate'
\`\`\`

Look-ups ignore case and hyphens (\`registry.get('PHQ-9')\` finds \`phq9\`), but they go by id, not by display
name. The command line uses the same registry (\`kapkit score --instrument PHQ-9\`). To change a default of a
built-in instrument (say, a PCL-5 cutoff of 31 instead of 33), build a new definition from it,
\`defineInstrument({ ...pcl5, cutoffs: [...] })\`, and score with that, or put it in a registry with
\`registry.register(definition, { replace: true })\`.

### Scoring, missing answers and proration

Each definition says how many of its scoring units (items, or item groups such as the QIDS-SR16 domains) may
be unanswered. A record is then scored with one of three statuses:

- \`complete\`: every unit answered; the total is the plain sum or mean.
- \`prorated\`: some units unanswered, but no more than the instrument allows. For a sum, the total is the mean
  of the answered units times the number of units (a PHQ-9 with eight answers summing to 9 scores
  9 / 8 × 9 = 10.125); for a mean, it is the mean of the answered units. The prorated total is kept exact and
  never rounded, and the result says which items were missing and which rule applied.
- \`not-scorable\`: more units unanswered than allowed; the total is \`null\`.

Extra scores (subscales, short forms) need all their items unless their definition states otherwise. A
record that breaks the definition (wrong number of answers, an answer outside the item's scale, a
non-integer) is invalid: \`scoreResponse\` throws a \`ResponseValidationError\` listing every problem,
\`safeScoreResponse\` returns the problems as a value, and the bulk scorers report the record and go on.

Severity bands cover totals from their lower bound up to the next band's lower bound, so a non-integer
prorated total falls in exactly one band. A cutoff is met, not met, or unknown (\`null\`) when the score it
refers to could not be computed.

### Safety flags

Some items carry a safety rule, for example PHQ-9 item 9 (thoughts of being better off dead or of self-harm).
A safety flag is raised from that item's answer alone, whatever the total: on a complete, prorated or
not-scorable record, and even on a record that is invalid elsewhere, as long as the safety item's own answer
is valid. A rule may also raise a distinct \`unanswered\` flag when its item is left blank, because a skipped
safety question needs asking again.

### What kapkit does not do

kapkit records and scores; it does not prescribe. Bands, cutoffs and safety flags are sourced defaults that
inform a clinician; they are not diagnoses and they do not decide treatment. A safety flag is a prompt to
assess risk with a person, not a risk assessment. Where no published rule exists, the definition says that
the value is a kapkit default.

### Reading the sections below

- **Items × scale**: number of items and the integer range of each answer.
- **Direction**: whether a higher total means more symptoms (higher is worse) or more of something wanted
  (higher is better); improvement is a fall in the first case and a rise in the second.
- **Purpose**: \`outcome\` measures are repeated over a course of treatment; \`session\` measures describe one
  dosing session.
- **Change constants**: the reliability coefficient used for the reliable change index (Jacobson & Truax
  1991); a fixed number of points that routine services count as reliable change; the minimal clinically
  important difference (MCID); and general-population norms for clinically significant change.
- **Outcome definitions**: response, remission and reliable change as the instrument defines them
  (\`outcomes\` in the definition). Analytics, charts, exports and the dashboard use these and nothing else;
  "not defined" means they report none for this instrument rather than assume a default.
- **LOINC**: codes that identify the questionnaire, its items and its answers in health records (used in the
  FHIR Questionnaire).

## Summary

${table(['Instrument', 'Id', 'Measures', 'Items × scale', 'Total range', 'Direction', 'Purpose', 'Item text shipped'], rows)}

Not shipped: instruments whose text and use are restricted by copyright (for example the BDI-II, the BAI and
the MADRS). A licensed user can define and register them as shown above.
`;
}

function render(defs) {
  return `${[intro(defs), ...defs.map(section)].join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------------------

const generated = render(builtinInstruments);

writeOrCheck({
  name: 'gen-instrument-docs',
  outFile,
  generated,
  check,
  what: 'from the instrument definitions',
  wrote: `${builtinInstruments.length} instruments`,
});
