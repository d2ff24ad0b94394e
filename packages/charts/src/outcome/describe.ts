import { formatDays, formatScore, localDate, signed } from '../format.js';
import type { OutcomeChartData, OutcomeChartRow, OutcomeSafetyFlag } from './types.js';

/** A safety flag in words (upper case: it must not be missed in a table or a spoken description). */
function describeFlag(f: OutcomeSafetyFlag, name: string): string {
  const what =
    f.kind === 'positive'
      ? `SAFETY FLAG: ${name} item ${f.item} answered ${f.value}`
      : `SAFETY ITEM UNANSWERED: ${name} item ${f.item} left blank`;
  return `${what}${f.reviewed ? ' (reviewed)' : ' (not yet reviewed)'}`;
}

/** One row of the outcome chart in words (tooltip, table caption, screen readers). */
export function describeRow(r: Omit<OutcomeChartRow, 'description'>, baseline: number | null): string {
  const parts: string[] = [];
  const score =
    r.total === null
      ? `${r.instrumentName} not scorable (too many items unanswered)`
      : `${r.instrumentName} ${formatScore(r.total)}${r.severityLabel ? ` (${r.severityLabel.toLowerCase()})` : ''}`;
  parts.push(`${score} on ${localDate(r.at)}`);
  if (r.baseline) parts.push('baseline');
  parts.push(
    r.doseNumber === 0
      ? 'before the first dose'
      : `after dose ${r.doseNumber} (${formatDays(r.daysSinceLastDose ?? 0)} d since), ${r.inCriticalPeriod ? 'inside' : 'outside'} a critical period`,
  );
  if (r.reliableChange === 'improved' || r.reliableChange === 'deteriorated') {
    parts.push(
      `reliable ${r.reliableChange === 'improved' ? 'improvement' : 'deterioration'} vs baseline ${formatScore(baseline!)} (RCI ${signed(r.rci!)})`,
    );
  } else if (r.reliableChange === 'no-reliable-change') {
    parts.push(`no reliable change vs baseline ${formatScore(baseline!)}`);
  }
  if (r.response) parts.push('meets the response criterion');
  if (r.remission) parts.push('in remission range');
  if (r.safetyFlag) parts.push(describeFlag(r.safetyFlag, r.instrumentName));
  if (!r.charted) parts.push(`${r.instrumentName} is not charted: marker at its total`);
  return parts.join('; ');
}

/** The reliable-change parameters of the charted instruments, in words (the chart's subtitle). */
export function rcNote(data: OutcomeChartData): string | null {
  const notes = data.instruments
    .filter((i) => i.reliableChange !== null)
    .map((i) => {
      const rc = i.reliableChange!;
      return `${i.name} r = ${rc.reliability}, SD = ${formatScore(Number(rc.sd.toFixed(2)))} (${rc.sdSource === 'given' ? 'given' : 'population norms'}): ${formatScore(Number(rc.pointsNeeded.toFixed(2)))} points`;
    });
  const critical = [
    ...new Set(data.instruments.flatMap((i) => (i.reliableChange ? [i.reliableChange.critical] : []))),
  ];
  return notes.length
    ? `Reliable change (Jacobson–Truax, ${critical.map((c) => formatScore(c)).join('/')} · Sdiff): ${notes.join('; ')}`
    : null;
}

/**
 * A one-paragraph summary of the outcome chart for `aria-label` / alt text: instruments (one panel each, with
 * its own severity bands), baseline and latest scores, doses, critical-period overlaps and gaps, the "today"
 * line, reliable change and safety flags.
 *
 * @example
 * ```ts
 * canvas.setAttribute('aria-label', describeOutcomeChart(outcomeChartData({ context })));
 * ```
 */
export function describeOutcomeChart(data: OutcomeChartData): string {
  const parts: string[] = [];
  if (data.synthetic) parts.push('Synthetic demo data.');
  for (const inst of data.instruments) {
    const rows = data.rows.filter((r) => r.instrument === inst.id && r.total !== null);
    if (rows.length === 0) {
      parts.push(`${inst.name}: no scored assessments.`);
      continue;
    }
    const last = rows[rows.length - 1]!;
    const base = inst.baseline;
    parts.push(
      `${inst.name}: ${rows.length} assessment(s); baseline ${base ? formatScore(base.total) : '-'}, latest ${formatScore(last.total!)}${last.severityLabel ? ` (${last.severityLabel.toLowerCase()})` : ''}${
        inst.outcome?.response ? ', response' : ''
      }${inst.outcome?.remission ? ', remission' : ''}.`,
    );
  }
  if (data.instruments.length > 1) {
    parts.push(
      `One panel per measure, top to bottom: ${data.instruments
        .map(
          (i) =>
            `${i.name} (0–${formatScore(i.range.max)}${i.bands.length ? `, its own ${i.bands.length} severity bands` : ''})`,
        )
        .join(', ')}.`,
    );
  }
  for (const inst of data.instruments)
    if (inst.notDefined.length) parts.push(`${inst.notDefined.join('; ')}.`);
  parts.push(
    `${data.doses.length} dose(s); critical period ${formatDays(data.criticalPeriodDays)} days; ${data.overlaps.length} overlap(s), ${data.gaps.length} gap(s)${
      data.gaps.length
        ? ` (${data.gaps.map((g) => `${formatDays(g.days)} d after dose ${g.afterDose}`).join(', ')})`
        : ''
    }.`,
  );
  if (data.today !== null) {
    const open = data.windows.filter((w) => w.drawnXMax < w.xMax).map((w) => w.doseNumber);
    parts.push(
      `Today (${localDate(data.today.at)}) is marked${open.length ? `; the critical period of dose ${open.join(', ')} is still open, shaded up to today only` : ''}.`,
    );
  }
  const improved = data.rows.filter((r) => r.reliableChange === 'improved').length;
  const deteriorated = data.rows.filter((r) => r.reliableChange === 'deteriorated').length;
  parts.push(`Reliable improvement at ${improved} assessment(s), deterioration at ${deteriorated}.`);
  const flags = data.rows.filter((r) => r.safetyFlag !== null);
  parts.push(
    flags.length === 0
      ? 'No safety flags.'
      : `Safety flags: ${flags.map((r) => `${describeFlag(r.safetyFlag!, r.instrumentName)} on ${localDate(r.at)}`).join('; ')}.`,
  );
  return parts.join(' ');
}
