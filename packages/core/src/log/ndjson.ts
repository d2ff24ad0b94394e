/** One line of an NDJSON input: its 1-based number and either the parsed value or why it did not parse. */
export type NdjsonLine =
  | { readonly line: number; readonly ok: true; readonly value: unknown }
  | { readonly line: number; readonly ok: false; readonly message: string };

/**
 * The non-blank lines of NDJSON text with their 1-based numbers, unparsed: UTF-8, a byte-order mark at the
 * start ignored, LF or CRLF line ends, blank lines skipped (they keep their number). Streaming: memory holds one
 * chunk and one line at a time. The splitting under {@link ndjsonLines}, for readers that parse selectively.
 */
export async function* ndjsonTextLines(
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<{ readonly line: number; readonly text: string }> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  let line = 0;
  let first = true;
  const clean = (raw: string): string => {
    line++;
    let text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return text;
  };
  for await (const chunk of source) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    let nl = rest.indexOf('\n');
    while (nl !== -1) {
      const text = clean(rest.slice(start, nl));
      if (text.trim() !== '') yield { line, text };
      start = nl + 1;
      nl = rest.indexOf('\n', start);
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest !== '') {
    const text = clean(rest);
    if (text.trim() !== '') yield { line, text };
  }
}

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
  for await (const { line, text } of ndjsonTextLines(source)) {
    try {
      yield { line, ok: true, value: JSON.parse(text) as unknown };
    } catch (e) {
      yield { line, ok: false, message: `not valid JSON (${(e as Error).message})` };
    }
  }
}
