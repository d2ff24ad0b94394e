/** One line of an NDJSON input: its 1-based number and either the parsed value or why it did not parse. */
export type NdjsonLine =
  | { readonly line: number; readonly ok: true; readonly value: unknown }
  | { readonly line: number; readonly ok: false; readonly message: string };

/**
 * Split NDJSON text into parsed lines, the one way every kapkit command reads a log: UTF-8, a byte-order mark
 * at the start ignored, LF or CRLF line ends, blank lines skipped (they keep their number), a line that is not
 * JSON reported with its number instead of stopping the read. Streaming: memory holds one line at a time.
 *
 * @example
 * ```ts
 * for await (const l of ndjsonLines(createReadStream('events.ndjson'))) if (l.ok) use(l.value);
 * ```
 */
export async function* ndjsonLines(
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<NdjsonLine> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  let line = 0;
  let first = true;
  const emit = (raw: string): NdjsonLine | null => {
    line++;
    let text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.trim() === '') return null;
    try {
      return { line, ok: true, value: JSON.parse(text) as unknown };
    } catch (e) {
      return { line, ok: false, message: `not valid JSON (${(e as Error).message})` };
    }
  };
  for await (const chunk of source) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl = rest.indexOf('\n');
    let start = 0;
    while (nl !== -1) {
      const out = emit(rest.slice(start, nl));
      if (out) yield out;
      start = nl + 1;
      nl = rest.indexOf('\n', start);
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest !== '') {
    const out = emit(rest);
    if (out) yield out;
  }
}
