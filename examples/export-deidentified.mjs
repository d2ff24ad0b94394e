// @ts-check
// Export an event log as de-identified CSV research tables, with a manifest and a codebook.
//   KAPKIT_EXPORT_KEY=<32+ characters> node examples/export-deidentified.mjs [events.ndjson] [outDir]
// Defaults: the synthetic demo-events.ndjson here, into ./kapkit-export. Without KAPKIT_EXPORT_KEY a random
// key is used (pseudonyms then differ between runs).
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { exportEvents } from '@kapkit/export';

const file = process.argv[2] ?? new URL('./demo-events.ndjson', import.meta.url);
const outDir = process.argv[3] ?? 'kapkit-export';
const key = process.env.KAPKIT_EXPORT_KEY ?? randomBytes(32).toString('hex');

const { manifest, files } = await exportEvents(createReadStream(file), {
  format: 'csv',
  outDir,
  deidentify: { key },
  onProblem: (p) => console.error(`line ${p.line}: ${p.code}: ${p.message}`),
});
for (const f of manifest.files) console.log(`${f.path}: ${f.rows ?? '-'} rows`);
console.log(`${files.length} files in ${outDir}`);
