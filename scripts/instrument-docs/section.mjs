// Part of scripts/gen-instrument-docs.mjs: one instrument's section, a function per subsection.

import { code, dash, esc, table } from '../lib/generator.mjs';
import { DIRECTION, definedIn, itemList, num, OP, PURPOSE, range, sentence } from './format.mjs';

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

/** What a subsection with nothing to list says. */
const NONE_DEFINED = ['None defined.', ''];

/** The subsections of an instrument's section, in order: the heading, and the function that writes the lines under it. */
const SUBSECTIONS = [
  ['Licence', licenceLines],
  ['LOINC', loincLines],
  ['Scoring', scoringLines],
  ['Severity bands', bandLines],
  ['Cutoffs', cutoffLines],
  ['Extra scores', extraScoreLines],
  ['Safety rules', safetyRuleLines],
  ['Change constants', changeConstantLines],
  ['Outcome definitions', outcomeLines],
  ['Items', itemLines],
  ['Answer options', answerOptionLines],
  ['Supplementary questions', supplementaryLines],
  ['References', referenceLines],
];

export function section(def) {
  const ctx = {
    textShipped: def.licence.itemTextIncluded,
    units: def.scoring.groups ? def.scoring.groups.length : def.items.length,
    unitWord: def.scoring.groups ? 'domains' : 'items',
    factor: def.scoring.factor && def.scoring.factor !== 1 ? ` (× ${num(def.scoring.factor)})` : '',
    notShipped: 'user-supplied (licence: text not shipped)',
  };
  return [
    ...headerLines(def),
    ...SUBSECTIONS.flatMap(([heading, lines]) => [`### ${heading}`, '', ...lines(def, ctx)]),
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
  return [
    `- **Panel**: ${def.loinc?.panel ? code(def.loinc.panel) : 'none recorded'}`,
    `- **Total score**: ${def.loinc?.total ? code(def.loinc.total) : 'none recorded'}`,
    '',
  ];
}

/** The Scoring subsection of an instrument's section. */
function scoringLines(def, ctx) {
  const out = [];
  const push = (...lines) => out.push(...lines);
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
  if (!def.bands || def.bands.length === 0) return NONE_DEFINED;
  return [
    'A band covers totals from its lower bound up to the next band’s lower bound, so a prorated, non-integer total falls in exactly one band.',
    '',
    table(
      ['Band', 'Label', 'Total'],
      def.bands.map((b) => [code(b.id), esc(b.label), range(b.min, b.max)]),
    ),
    '',
    ...(def.bandsSource ? [`Source: ${sentence(def.bandsSource)}`, ''] : []),
  ];
}

/** The Cutoffs subsection of an instrument's section. */
function cutoffLines(def) {
  const cutoffs = def.cutoffs ?? [];
  const composites = def.compositeCutoffs ?? [];
  if (cutoffs.length === 0 && composites.length === 0) return NONE_DEFINED;
  const rows = cutoffs.map((c) => [
    code(c.id),
    esc(c.label),
    `${c.score === 'total' ? 'total' : code(c.score)} ${OP[c.op] ?? c.op} ${num(c.value)}`,
    esc(c.source),
  ]);
  for (const c of composites) {
    rows.push([code(c.id), esc(c.label), `all of ${c.allOf.map(code).join(', ')}`, esc(c.source)]);
  }
  return [table(['Cutoff', 'Label', 'Met when', 'Source'], rows), ''];
}

/** The Extra scores subsection of an instrument's section. */
function extraScoreLines(def) {
  const scores = def.scores ?? [];
  if (scores.length === 0) return NONE_DEFINED;
  return [
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
  ];
}

/** The Safety rules subsection of an instrument's section. */
function safetyRuleLines(def) {
  const safety = def.safety ?? [];
  if (safety.length === 0) return NONE_DEFINED;
  const rules = safety.flatMap((r) => {
    const item = def.items[r.item - 1];
    const unanswered = r.flagUnanswered
      ? ` Also raised, as a separate flag of kind \`unanswered\`, when item ${r.item} is left blank.`
      : '';
    return [
      `- ${code(r.id)}: raised when item ${r.item} (${code(item?.id ?? '?')}) is answered ${OP[r.op] ?? r.op} ${num(r.value)}, whatever the total.${unanswered}`,
      `  - Message: “${esc(r.message)}”`,
      `  - Source: ${sentence(r.source)}`,
    ];
  });
  return [...rules, ''];
}

/** The Change constants subsection of an instrument's section. */
function changeConstantLines(def) {
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
  return [...(changeLines.length > 0 ? changeLines : ['None recorded.']), ''];
}

/** The Outcome definitions subsection of an instrument's section. */
function outcomeLines(def) {
  const out = [];
  const push = (...lines) => out.push(...lines);
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
  def.references.forEach((ref, i) => {
    push(`${i + 1}. ${esc(ref)}`);
  });
  push('');
  return out;
}
