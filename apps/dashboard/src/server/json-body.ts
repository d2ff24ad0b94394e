/** Reading a route's JSON body with a zod schema, and the 400 answer naming each field that failed. */
import type { Context } from 'hono';
import type { z } from 'zod';

/** A field that failed its check: its path (`(body)` for the body itself) and why. */
export interface BodyIssue {
  readonly path: string;
  readonly message: string;
}

/** The fields a zod error names. */
export function zodIssues(error: z.ZodError): BodyIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
}

/** The 400 answer's body: "Not <what>: path: message; …" with the issues. */
export function invalidInput(what: string, issues: readonly BodyIssue[]) {
  return {
    error: 'invalid-input' as const,
    message: `Not ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  };
}

/**
 * The request's JSON body checked by `schema`, or the 400 answer to send: `invalid-json` when the body is not
 * JSON, else `invalid-input` naming the fields (`what` says what did not happen: "saved", "sent").
 */
export async function checkedJson<T>(
  c: Context,
  schema: z.ZodType<T>,
  what: string,
): Promise<{ ok: true; data: T } | { ok: false; res: Response }> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return {
      ok: false,
      res: c.json({ error: 'invalid-json', message: 'The request body is not valid JSON.' }, 400),
    };
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) return { ok: false, res: c.json(invalidInput(what, zodIssues(parsed.error)), 400) };
  return { ok: true, data: parsed.data };
}
