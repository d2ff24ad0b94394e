import { writeSchemaFiles } from '@kapkit/export';
import { CliError, type CliIO, write } from '../io.js';

/**
 * `kapkit schema --out <dir>`: write the JSON Schema of every public kapkit record (domain events, instrument
 * responses, scored assessments, `kapkit score` lines, the research tables, the analytics report, the export
 * manifest) in draft 2020-12 and draft-07, with an `index.json`. Returns 0.
 */
export async function schemaCommand(options: { out: string }, io: CliIO): Promise<number> {
  if (options.out.trim() === '') throw new CliError('--out: expected a directory');
  let paths: string[];
  try {
    paths = await writeSchemaFiles(options.out);
  } catch (e) {
    throw new CliError(`cannot write schemas to "${options.out}": ${(e as Error).message}`, 74);
  }
  const schemas = paths.filter((p) => p.endsWith('.schema.json')).length;
  await write(
    io.stdout,
    `kapkit schema: wrote ${schemas} JSON Schemas (draft 2020-12 and draft-07) and index.json to ${options.out}\n`,
  );
  return 0;
}
