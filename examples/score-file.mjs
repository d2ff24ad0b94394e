// @ts-check
// Score a file of PHQ-9 answers: NDJSON, one {"id", "responses": [nine answers 0-3 or null]} per line.
//   node examples/score-file.mjs [answers.ndjson]      (default: the synthetic phq9-synthetic.ndjson here)
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { phq9, scoreStream } from '@kapkit/core/instruments';

const file = process.argv[2] ?? new URL('./phq9-synthetic.ndjson', import.meta.url);

/** Parsed lines of the file, skipping blank ones. */
async function* records() {
  for await (const line of createInterface({
    input: createReadStream(file),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    if (line.trim() !== '') yield JSON.parse(line);
  }
}

let invalid = 0;
for await (const outcome of scoreStream(phq9, records())) {
  if (!outcome.ok) {
    invalid++;
    console.log(`record ${outcome.index + 1}: invalid: ${outcome.issues.map((i) => i.message).join('; ')}`);
    continue;
  }
  const { total, status, severity, safetyFlags } = outcome.result;
  const flags = safetyFlags.map((f) => f.rule).join(', ');
  console.log(
    `${outcome.id}: ${status} total ${total ?? '-'} (${severity ?? 'no band'})${flags ? ` SAFETY: ${flags}` : ''}`,
  );
}
process.exitCode = invalid > 0 ? 1 : 0;
