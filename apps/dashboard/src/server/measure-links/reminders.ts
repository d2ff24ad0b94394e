/**
 * E-mail reminders: the delivery worker of the store's outbox. Each message is claimed (`sending`) before it
 * is handed to the mail server, so a message is never sent twice: a failure the server reports is retried
 * with exponential back-off; a permanent refusal (5xx) or the last attempt gives up (`failed`); a message
 * left `sending` by a crash becomes `uncertain` and is not sent again (the patient may already have it).
 *
 * The message holds no health information: a questionnaire from the care team, the link, and when it expires.
 * No patient identifier, instrument name or answer. Its link is a new one, minted at sending time (only its
 * hash is stored); a link whose e-mail failed is forgotten.
 */
import type { MeasureRequestStore } from '@kapkit/store';
import { createTransport } from 'nodemailer';
import { DEFAULT_EMAIL_RETRY, type EmailRetryPolicy } from './settings.js';

/** What an e-mail says: nothing about the patient's health. */
interface ReminderMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** Sends one message; rejects with `responseCode` (SMTP reply) or `code` (`ECONNECTION`…) when it fails. */
export interface Mailer {
  send(message: ReminderMessage): Promise<void>;
  close(): void;
}

/** A mailer over SMTP with nodemailer (`smtp://user:pass@host:587`, `smtps://…`). */
export function smtpMailer(url: string, from: string): Mailer {
  const transport = createTransport(url);
  return {
    async send(m) {
      await transport.sendMail({ from, to: m.to, subject: m.subject, text: m.text });
    },
    close() {
      transport.close();
    },
  };
}

/** The reminder for a request's link: the questionnaire, the link and its expiry. */
function reminderMessage(to: string, url: string, expiresAt: string, expiresText: string): ReminderMessage {
  return {
    to,
    subject: 'A questionnaire from your care team',
    text: [
      'Hello,',
      '',
      'Your care team asks you to answer a short questionnaire. It takes a few minutes.',
      '',
      `Open this link to answer: ${url}`,
      '',
      `The link works until ${expiresText} (${expiresAt}) and can be used once. It is for you only: please do not forward this e-mail.`,
      '',
      'If you did not expect this message, contact your care team.',
    ].join('\n'),
  };
}

export interface DeliveryOptions {
  readonly requests: MeasureRequestStore;
  readonly mailer: Mailer;
  readonly nowMs: number;
  /** The link of a token (`https://kap.clinic.example/m/<token>`). */
  readonly linkOf: (token: string) => string;
  /** A request's expiry in words, in the clinic's time zone. */
  readonly expiresText: (iso: string) => string;
  readonly retry?: Partial<EmailRetryPolicy>;
  /** A message claimed this long ago and still `sending` was interrupted (default 10 minutes). */
  readonly interruptedAfterMs?: number;
}

export interface DeliveryReport {
  readonly sent: number;
  readonly retrying: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly uncertain: number;
}

/** The failure's SMTP reply code or error code (never its text, which can quote the address). */
function failureCode(error: unknown): { code: string; permanent: boolean } {
  const e = error as { responseCode?: unknown; code?: unknown };
  if (typeof e?.responseCode === 'number') {
    return { code: String(e.responseCode), permanent: e.responseCode >= 500 && e.responseCode < 600 };
  }
  return { code: typeof e?.code === 'string' ? e.code : 'error', permanent: false };
}

/**
 * One delivery pass: mark interrupted messages `uncertain`, then claim and send the messages due at `nowMs`.
 * @example
 * ```ts
 * await deliverReminders({ requests, mailer: smtpMailer(process.env.SMTP_URL!, from), nowMs: Date.now(), linkOf, expiresText });
 * ```
 */
export async function deliverReminders(o: DeliveryOptions): Promise<DeliveryReport> {
  const retry = { ...DEFAULT_EMAIL_RETRY, ...o.retry };
  const report = { sent: 0, retrying: 0, failed: 0, cancelled: 0, uncertain: 0 };
  report.uncertain = await o.requests.markInterrupted(o.nowMs - (o.interruptedAfterMs ?? 10 * 60_000));
  for (const message of await o.requests.claimDue(o.nowMs)) {
    const request = await o.requests.get(message.requestId, o.nowMs);
    const token =
      request && (request.status === 'sent' || request.status === 'opened')
        ? await o.requests.issueLink(request.id, o.nowMs, 'email')
        : null;
    if (!request || token === null) {
      await o.requests.cancel(message.id);
      report.cancelled++;
      continue;
    }
    try {
      await o.mailer.send(
        reminderMessage(
          message.recipient,
          o.linkOf(token),
          request.expiresAt,
          o.expiresText(request.expiresAt),
        ),
      );
    } catch (error) {
      await o.requests.dropLink(token);
      const { code, permanent } = failureCode(error);
      const last = permanent || message.attempts >= retry.maxAttempts;
      const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (message.attempts - 1));
      await o.requests.markFailed(message.id, code, last ? null : o.nowMs + delay);
      if (last) report.failed++;
      else report.retrying++;
      continue;
    }
    await o.requests.markSent(message.id, o.nowMs);
    report.sent++;
  }
  return report;
}
