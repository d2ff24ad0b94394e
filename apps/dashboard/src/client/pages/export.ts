/** The research export: a de-identified bundle, as `kapkit export --deidentify` writes it. */
import { api } from '../api.js';
import { h } from '../dom.js';
import { pageHeading } from '../ui.js';

const FORMAT_WORDS: Record<string, string> = {
  csv: 'CSV tables',
  ndjson: 'NDJSON tables',
  parquet: 'Parquet tables',
  fhir: 'FHIR R4 Bundle',
};

export async function renderExport(): Promise<HTMLElement> {
  const meta = await api.meta();
  return h(
    'section',
    { class: 'page export' },
    ...pageHeading(
      'Research export',
      meta.demo,
      'A de-identified bundle for research: every episode in the store, with identifiers replaced by pseudonyms, dates by days since baseline and free text left out, described by a manifest and a codebook.',
    ),
    meta.export.available
      ? h(
          'ul',
          { class: 'downloads' },
          meta.export.formats.map((f) =>
            h(
              'li',
              {},
              h(
                'a',
                {
                  href: `/api/export?format=${encodeURIComponent(f)}`,
                  class: 'button primary',
                  download: '',
                  'data-format': f,
                },
                `Download ${FORMAT_WORDS[f] ?? f}`,
              ),
            ),
          ),
        )
      : h('p', { class: 'note', id: 'export-unavailable' }, meta.export.note),
    meta.export.available ? h('p', { class: 'muted small' }, meta.export.note) : null,
    h(
      'p',
      { class: 'muted small' },
      'Each download is a .tar.gz of one folder: the tables (assessments, dosing sessions, episodes) or a FHIR R4 Bundle, with manifest.json and codebook.md. Demo data keeps its synthetic flag.',
    ),
  );
}
