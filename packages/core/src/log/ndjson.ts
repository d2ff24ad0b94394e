/** One line of an NDJSON input: its 1-based number and either the parsed value or why it did not parse. */
export type NdjsonLine =
  | { readonly line: number; readonly ok: true; readonly value: unknown }
  | { readonly line: number; readonly ok: false; readonly message: string };

/**
 * Splits NDJSON text, chunk by chunk, into its non-blank lines with their 1-based numbers: UTF-8, a byte-order
 * mark at the start ignored, LF or CRLF line ends, blank lines skipped (they keep their number). The lines of a
 * chunk are handed back together (two arrays reused from chunk to chunk), so that a reader pays for one `await`
 * per line, not one per layer of generators.
 */
class LineSplitter {
  readonly numbers: number[] = [];
  readonly texts: string[] = [];
  #decoder = new TextDecoder('utf-8');
  #rest = '';
  #line = 0;
  #first = true;

  /** The lines completed by `chunk` (in `numbers` and `texts`, replacing the previous chunk's). */
  push(chunk: string | Uint8Array): void {
    this.numbers.length = 0;
    this.texts.length = 0;
    const text =
      this.#rest + (typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true }));
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      this.#add(text, start, nl);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.#rest = start === 0 ? text : text.slice(start);
  }

  /** The last line, when the text does not end with a line end (in `numbers` and `texts`). */
  end(): void {
    this.numbers.length = 0;
    this.texts.length = 0;
    const rest = this.#rest + this.#decoder.decode();
    this.#rest = '';
    if (rest !== '') this.#add(rest, 0, rest.length);
  }

  #add(text: string, start: number, end: number): void {
    this.#line++;
    if (end > start && text.charCodeAt(end - 1) === 13) end--; // CR of CRLF
    if (this.#first) {
      this.#first = false;
      if (text.charCodeAt(start) === 0xfeff) start++;
    }
    const line = text.slice(start, end);
    if (isBlank(line)) return;
    this.numbers.push(this.#line);
    this.texts.push(line);
  }
}

/** Whether a line holds nothing but white space (as `trim` sees it). */
function isBlank(line: string): boolean {
  // A JSON line starts with `{` (or another non-space character): decided on the first character.
  const c = line.charCodeAt(0);
  if (Number.isNaN(c)) return true;
  if (c > 32 && c !== 160 && c < 0x1680) return false;
  return line.trim() === '';
}

/**
 * The non-blank lines of NDJSON text with their 1-based numbers, unparsed: UTF-8, a byte-order mark at the
 * start ignored, LF or CRLF line ends, blank lines skipped (they keep their number). Streaming: memory holds one
 * chunk and one line at a time. The splitting under {@link ndjsonLines}, for readers that parse selectively.
 */
export async function* ndjsonTextLines(
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<{ readonly line: number; readonly text: string }> {
  const lines = new LineSplitter();
  for await (const chunk of source) {
    lines.push(chunk);
    for (let i = 0; i < lines.texts.length; i++) yield { line: lines.numbers[i]!, text: lines.texts[i]! };
  }
  lines.end();
  for (let i = 0; i < lines.texts.length; i++) yield { line: lines.numbers[i]!, text: lines.texts[i]! };
}

/** One line parsed. */
function parsedLine(line: number, text: string): NdjsonLine {
  try {
    return { line, ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { line, ok: false, message: `not valid JSON (${(e as Error).message})` };
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
  const lines = new LineSplitter();
  for await (const chunk of source) {
    lines.push(chunk);
    for (let i = 0; i < lines.texts.length; i++) yield parsedLine(lines.numbers[i]!, lines.texts[i]!);
  }
  lines.end();
  for (let i = 0; i < lines.texts.length; i++) yield parsedLine(lines.numbers[i]!, lines.texts[i]!);
}
