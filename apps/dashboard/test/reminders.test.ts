import type { AddressInfo } from 'node:net';
import type { EventStore } from '@kapkit/store';
import { openMeasureRequests } from '@kapkit/store';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import { buildLongEpisode } from '../src/server/demo.js';
import { signedIn } from './support/auth.js';
import { openTempStore } from './support/store.js';

/*
 * E-mail reminders end to end against a real SMTP server (the `smtp-server` package) that this test starts on
 * 127.0.0.1: a due measure produces exactly one e-mail with a working link and no health information, and
 * none after a restart; a refusal the server reports is retried with back-off, never sent twice; a permanent
 * refusal is given up.
 */

const DAY_MS = 86_400_000;
const NOW = Date.now();
/** The app's clock: 40 days on, the monitoring plan's periodic measures are due. */
const LATER = NOW + 40 * DAY_MS;
const BASE = 'https://kap.clinic.test';
const P = [
  { patientId: 'test-pt-mail-1', episodeId: 'test-ep-mail-1', email: 'one@patients.test' },
  { patientId: 'test-pt-mail-2', episodeId: 'test-ep-mail-2', email: 'two@patients.test' },
  { patientId: 'test-pt-mail-3', episodeId: 'test-ep-mail-3', email: 'three@patients.test' },
] as const;

interface Received {
  readonly to: string[];
  readonly raw: string;
}

/** Quoted-printable soft line breaks and escapes undone (nodemailer encodes long text lines). */
function decode(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

let store: EventStore;
let dispose: () => Promise<void>;
let smtp: SMTPServer;
let smtpUrl: string;
const received: Received[] = [];
/** Recipient → SMTP replies to give at RCPT TO before accepting (e.g. [451]). */
const refusals = new Map<string, number[]>();

function dashboard() {
  return createDashboardApp({
    store,
    log: () => {},
    now: () => LATER,
    patientLinks: {
      smtp: { url: smtpUrl, from: 'Your care team <care@clinic.test>' },
      baseUrl: () => BASE,
      emailRetry: { baseDelayMs: 60_000, maxAttempts: 4 },
    },
  });
}

beforeAll(async () => {
  smtp = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const queue = refusals.get(address.address);
      const code = queue?.shift();
      if (code !== undefined) {
        const error = new Error(code >= 500 ? 'Mailbox unavailable' : 'Try again later') as Error & {
          responseCode: number;
        };
        error.responseCode = code;
        callback(error);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: decode(Buffer.concat(chunks).toString('utf8')),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
  ({ store, dispose } = await openTempStore());
  for (const p of P) {
    await store.append(
      p.episodeId,
      buildLongEpisode({
        patientId: p.patientId,
        episodeId: p.episodeId,
        startMs: NOW - 70 * DAY_MS,
        weeks: 8,
        doses: 3,
      }),
      { expectedVersion: 0 },
    );
  }
  const first = dashboard();
  const therapist = await signedIn(first.accounts, 'therapist', {
    patients: P.map((p) => p.patientId),
    nowMs: LATER,
  });
  for (const p of P) {
    const res = await first.app.request(`/api/patients/${p.patientId}/contact`, {
      method: 'POST',
      headers: { ...therapist.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ email: p.email }),
    });
    expect(res.status).toBe(200);
  }
  first.measureLinks.stop();
});

afterAll(async () => {
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  await dispose?.();
});

const to = (email: string) => received.filter((m) => m.to.includes(email));

describe('e-mail reminders over SMTP', () => {
  it('sends exactly one e-mail for a due measure, with a working link and no health information, and none after a restart', async () => {
    refusals.set(P[1].email, [451]);
    refusals.set(P[2].email, [550]);
    const app = dashboard();
    expect(app.measureLinks.reminders).toBe('email');
    const pass = await app.measureLinks.runScheduler(LATER);
    expect(pass.created).toBe(3);
    const report = await app.measureLinks.deliverReminders(LATER);
    expect(report).toMatchObject({ sent: 1, retrying: 1, failed: 1 });
    const mails = to(P[0].email);
    expect(mails).toHaveLength(1);
    const raw = mails[0]!.raw;
    expect(raw).toMatch(/^Subject: A questionnaire from your care team/m);
    expect(raw).toMatch(/The link works until .+ and can be used once/);
    // No patient identifier, instrument, score or diagnosis in the message.
    expect(raw).not.toMatch(/test-pt|test-ep|phq|gad|depress|anxi|suicid|ketamine|score/i);
    const link = raw.match(/https:\/\/kap\.clinic\.test\/m\/([A-Za-z0-9_-]{43})/);
    expect(link).not.toBeNull();
    // The link opens the questionnaire.
    const open = await app.app.request('/m/api/open', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: link![1] }),
    });
    expect(open.status).toBe(200);
    expect((await open.json()).instruments.map((i: { id: string }) => i.id)).toEqual(
      expect.arrayContaining(['phq9', 'gad7']),
    );
    app.measureLinks.stop();

    // A restart: a new app over the same store runs its passes again. Nothing new is queued or sent.
    const again = dashboard();
    expect(await again.measureLinks.runScheduler(LATER + 60_000)).toMatchObject({ created: 0 });
    await again.measureLinks.deliverReminders(LATER + 30_000);
    expect(to(P[0].email)).toHaveLength(1);
    again.measureLinks.stop();
  });

  it('retries a message the server refused for now after its back-off, once, and gives up on a permanent refusal', async () => {
    const app = dashboard();
    const requests = openMeasureRequests(store);
    // Before the back-off (1 minute after the first attempt) nothing is tried.
    expect(await app.measureLinks.deliverReminders(LATER + 59_000)).toMatchObject({ sent: 0, retrying: 0 });
    expect(to(P[1].email)).toHaveLength(0);
    expect(await app.measureLinks.deliverReminders(LATER + 60_000)).toMatchObject({ sent: 1 });
    expect(to(P[1].email)).toHaveLength(1);
    expect(await app.measureLinks.deliverReminders(LATER + 10 * 60_000)).toMatchObject({ sent: 0 });
    expect(to(P[1].email)).toHaveLength(1);
    expect(to(P[2].email)).toHaveLength(0);
    const outbox = await requests.outbox();
    const byRecipient = Object.fromEntries(outbox.map((m) => [m.recipient, m]));
    expect(byRecipient[P[0].email]).toMatchObject({ status: 'sent', attempts: 1 });
    expect(byRecipient[P[1].email]).toMatchObject({ status: 'sent', attempts: 2, lastError: null });
    expect(byRecipient[P[2].email]).toMatchObject({ status: 'failed', attempts: 1, lastError: '550' });
    app.measureLinks.stop();
  });
});
