import { createInstrumentRegistry } from '@kapkit/core/instruments';
import { type CliIO, write } from '../io.js';

/** `kapkit instruments [--json]`: list the registered instruments. */
export async function instrumentsCommand(options: { json?: boolean }, io: CliIO): Promise<number> {
  const list = createInstrumentRegistry().list();
  if (options.json) {
    const rows = list.map((d) => ({
      id: d.id,
      name: d.name,
      title: d.title,
      items: d.items.length,
      range: d.range,
      purpose: d.purpose,
      itemTextIncluded: d.licence.itemTextIncluded,
    }));
    await write(io.stdout, `${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...list.map((d) => d.id.length));
  for (const d of list) {
    const text = d.licence.itemTextIncluded ? 'item text included' : 'scoring only, item text user-supplied';
    await write(
      io.stdout,
      `${d.id.padEnd(width)}  ${d.name}: ${d.title}; ${d.items.length} items, total ${d.range.min}–${d.range.max}; ${text}\n`,
    );
  }
  return 0;
}
