import { join } from 'node:path';
import axe from 'axe-core';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoSignInLinks } from '../src/server/auth/first-run.js';
import { seedDemoCaseload } from '../src/server/demo.js';
import { artifactsDir, browserSuite } from './support/browser.js';
import { appendLongEpisode } from './support/store.js';

const artifacts = artifactsDir('patients');
const DAY_MS = 86_400_000;
const NOW = Date.now();
const P = { patientId: 'demo-pt-9001', episodeId: 'demo-ep-9001' };
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
const CLINIC_PHONE = '(555) 010-0199';

const suite = browserSuite('patient-link browser tests');

interface AxeResult {
  readonly violations: readonly {
    id: string;
    impact: string | null;
    nodes: readonly { target: unknown }[];
  }[];
}

/** Run axe-core in the page (its source evaluated through the DevTools protocol: the page's CSP allows no inline script). */
async function axeCheck(page: Page, label: string): Promise<AxeResult['violations']> {
  await page.evaluate(axe.source);
  const result = (await page.evaluate(() =>
    (window as unknown as { axe: { run(ctx: Document, o: object): Promise<unknown> } }).axe.run(document, {
      resultTypes: ['violations'],
    }),
  )) as AxeResult;
  const summary =
    result.violations.map((v) => `${v.id} (${v.impact}, ${v.nodes.length})`).join(', ') || 'none';
  console.log(`axe ${label}: ${result.violations.length} violation(s): ${summary}`);
  return result.violations;
}

// One block: the tests follow one clinician's session in order (the link sent first is answered next), and the
// last checks the page errors of all of them.
describe.skipIf(suite.skip)('patients report their own outcomes, in a real browser', () => {
  /** The server's clock runs this far ahead of the real one (the expired-link test moves it). */
  let ahead = 0;
  const running = suite.dashboard(() => ({
    seed: async (s) => {
      await seedDemoCaseload(s, { nowMs: NOW, patients: 6 });
      await appendLongEpisode(s, P, { nowMs: NOW, daysAgo: 60, weeks: 6, doses: 2 });
    },
    app: { now: () => Date.now() + ahead, patientLinks: { clinicPhone: CLINIC_PHONE } },
  }));
  let clinician: Page;
  let therapistLink: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const { dashboard, base, browser } = running;
    await dashboard.refresh();
    const links = await demoSignInLinks(dashboard.accounts, dashboard.syntheticPatients(), NOW);
    therapistLink = `${base}${links.find((l) => l.role === 'therapist')!.path}`;
    clinician = await (await browser.newContext({ viewport: PHONE })).newPage();
    clinician.on('pageerror', (e) => pageErrors.push(e.message));
  });

  async function patientPage(viewport = PHONE): Promise<{ context: BrowserContext; page: Page }> {
    const context = await running.browser.newContext({
      viewport,
      hasTouch: viewport === PHONE,
      isMobile: viewport === PHONE,
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return { context, page };
  }

  /** Send measures from the patient page; returns the link shown. */
  async function sendMeasures(instruments: string[]): Promise<string> {
    await clinician.goto(`${running.base}/patients/${P.patientId}`);
    await clinician.waitForSelector('#send-measures');
    for (const box of await clinician.locator('#send-measures input[name=instrument]').all()) {
      const value = await box.getAttribute('value');
      if (instruments.includes(value!) !== (await box.isChecked())) await box.click();
    }
    await clinician.click('#send-measures-button');
    await clinician.waitForSelector('#measure-link');
    return clinician.locator('#measure-link').inputValue();
  }

  /** Answer every question: `values[instrument][i]`, by clicking the answer's label (a touch target). */
  async function answerAll(page: Page, values: Record<string, number[]>): Promise<void> {
    for (const [instrument, list] of Object.entries(values)) {
      for (const [i, v] of list.entries()) {
        await page.waitForSelector(`#q-${instrument}-${i + 1}-${v}`);
        await page.click(`label[for="q-${instrument}-${i + 1}-${v}"]`);
        await page.click('#next');
      }
    }
    await page.waitForSelector('[data-screen=review]');
  }

  it('a demo therapist signs in and sends a PHQ-9 and GAD-7 request: a link to copy or scan', async () => {
    await clinician.goto(therapistLink);
    await Promise.all([clinician.waitForURL(`${running.base}/`), clinician.click('#continue')]);
    const url = await sendMeasures(['phq9', 'gad7']);
    expect(url).toMatch(new RegExp(`^${running.base}/m/[A-Za-z0-9_-]{43}$`));
    expect(url).not.toMatch(/demo-pt|phq|gad/i);
    await clinician.click('#show-qr');
    await clinician.waitForSelector('#link-box svg.qr');
    expect(await clinician.locator('#requests-table tbody tr').first().getAttribute('data-status')).toBe(
      'sent',
    );
    await clinician.locator('#measure-requests').screenshot({ path: join(artifacts, 'send-measures.png') });
    sentUrl = url;
  });

  let sentUrl = '';

  it('the patient answers on a phone, item 9 = 2 shows the crisis screen first; the caseload shows the urgent alert', async () => {
    const { context, page } = await patientPage();
    await page.goto(sentUrl);
    await page.waitForSelector('[data-screen=intro]');
    expect(await axeCheck(page, 'patient page intro, 390 px')).toEqual([]);
    await page.screenshot({ path: join(artifacts, 'patient-intro-390.png'), fullPage: true });
    await page.click('#start');
    await page.waitForSelector('[data-screen=question]');
    expect(await page.locator('#progress').textContent()).toBe('Question 1 of 16');
    expect(await page.locator('legend').textContent()).toMatch(/Little interest or pleasure/);
    expect(await axeCheck(page, 'patient page question, 390 px')).toEqual([]);
    // Large touch targets: every answer is at least 48 px high and spans the screen.
    const boxes = await page
      .locator('.pl-option')
      .evaluateAll((ls) => ls.map((l) => l.getBoundingClientRect()));
    for (const b of boxes) {
      expect(b.height).toBeGreaterThanOrEqual(48);
      expect(b.width).toBeGreaterThan(300);
    }
    // The keyboard alone answers the first question: focus the first answer, pick the second, go on.
    await page.locator('#q-phq9-1-0').focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.locator('#q-phq9-1-1').isChecked()).toBe(true);
    await page.screenshot({ path: join(artifacts, 'patient-question-390.png'), fullPage: true });
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#progress:text("Question 2 of 16")');
    await page.click('#back');
    await page.waitForSelector('#progress:text("Question 1 of 16")');
    await answerAll(page, { phq9: [1, 1, 1, 1, 1, 1, 1, 1, 2], gad7: [1, 1, 1, 1, 1, 1, 1] });
    expect(await page.locator('.pl-review li').count()).toBe(16);
    expect(await axeCheck(page, 'patient page review, 390 px')).toEqual([]);
    await page.screenshot({ path: join(artifacts, 'patient-review-390.png'), fullPage: true });

    const t0 = Date.now();
    await page.click('#submit');
    await page.waitForSelector('[data-screen=crisis]');
    const crisisMs = Date.now() - t0;
    // Before any other message: the crisis screen's heading has the focus, with 988 and 911 to tap.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('crisis-heading');
    const hrefs = await page
      .locator('.pl-crisis-actions a')
      .evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual(['tel:988', 'sms:988', 'tel:911']);
    await page.waitForSelector('#save-status .pl-ok');
    expect(await page.locator('#save-status').textContent()).toMatch(/sent to your care team/);
    expect(await page.evaluate(() => localStorage.getItem('kapkit-measure-pending'))).toBeNull();

    // The therapist's caseload: the urgent alert for that patient, marked patient-reported.
    let alertMs = -1;
    for (let i = 0; i < 60 && alertMs < 0; i++) {
      await clinician.goto(`${running.base}/`);
      await clinician.waitForSelector('main[data-ready="/"]');
      const badge = clinician.locator(`tr[data-patient="${P.patientId}"] [data-alert="safety-flag"]`);
      if ((await badge.count()) > 0) {
        alertMs = Date.now() - t0;
        expect(await badge.first().getAttribute('title')).toMatch(/item 9 answered 2 .*\(patient-reported\)/);
        expect(await badge.first().textContent()).toMatch(/Urgent Safety flag, patient-reported/);
      }
    }
    expect(alertMs).toBeGreaterThanOrEqual(0);
    console.log(
      `submit → crisis screen: ${crisisMs} ms; submit → urgent alert on the caseload: ${alertMs} ms`,
    );
    expect(await axeCheck(page, 'crisis screen, 390 px')).toEqual([]);
    await page.screenshot({ path: join(artifacts, 'crisis-390.png'), fullPage: true });
    const row = clinician.locator(`tr[data-patient="${P.patientId}"]`);
    expect(await row.locator('.requests-cell').textContent()).toMatch(/1 completed/);
    await clinician.locator(`tr[data-patient="${P.patientId}"] .alerts-cell`).screenshot({
      path: join(artifacts, 'caseload-alert-cell-390.png'),
    });
    // The clinician's view of the same caseload on a desktop screen, for the documentation.
    await clinician.setViewportSize(DESKTOP);
    await clinician.screenshot({ path: join(artifacts, 'caseload-alert-1440.png') });
    await clinician.setViewportSize(PHONE);

    // The patient page: completed request, answers marked patient-reported in the table and the timeline.
    await clinician.goto(`${running.base}/patients/${P.patientId}`);
    await clinician.waitForSelector('#requests-table');
    expect(await clinician.locator('#requests-table tbody tr').first().getAttribute('data-status')).toBe(
      'completed',
    );
    expect(await clinician.locator('#outcome-table .reported-by .tag').count()).toBe(2);
    expect(
      await clinician.locator('#timeline .tl-assessment .tag', { hasText: 'patient-reported' }).count(),
    ).toBe(2);
    await clinician
      .locator('#measure-requests')
      .screenshot({ path: join(artifacts, 'requests-completed.png') });

    // The link cannot be used again.
    await page.reload();
    await page.waitForSelector('[data-screen=used]');
    expect(await page.locator('#message').textContent()).toMatch(/already been used/);
    await page.screenshot({ path: join(artifacts, 'link-used-390.png'), fullPage: true });
    await context.close();
  });

  it('when saving fails the crisis screen still shows, says to call the clinic, and keeps the answers to retry (1440 px)', async () => {
    const url = await sendMeasures(['phq9']);
    const { context, page } = await patientPage(DESKTOP);
    await page.goto(url);
    await page.waitForSelector('[data-screen=intro]');
    expect(await axeCheck(page, 'patient page intro, 1440 px')).toEqual([]);
    await page.click('#start');
    await page.waitForSelector('[data-screen=question]');
    expect(await axeCheck(page, 'patient page question, 1440 px')).toEqual([]);
    await page.screenshot({ path: join(artifacts, 'patient-question-1440.png') });
    await answerAll(page, { phq9: [2, 2, 1, 1, 2, 1, 1, 0, 1] });
    await page.route('**/m/api/submit', (route) => route.abort('connectionrefused'));
    await page.click('#submit');
    await page.waitForSelector('[data-screen=crisis]');
    await page.waitForSelector('#save-status .pl-error-box');
    expect(await page.locator('#save-status').textContent()).toMatch(
      /could not be sent\. Please call your clinic at \(555\) 010-0199\..*kept on this device/,
    );
    const kept = JSON.parse(
      (await page.evaluate(() => localStorage.getItem('kapkit-measure-pending'))) ?? 'null',
    );
    expect(kept?.answers).toEqual({ phq9: [2, 2, 1, 1, 2, 1, 1, 0, 1] });
    expect(await axeCheck(page, 'crisis screen (not saved), 1440 px')).toEqual([]);
    await page.screenshot({ path: join(artifacts, 'crisis-not-saved-1440.png') });
    // A reload keeps showing the crisis screen and sends the kept answers.
    await page.unroute('**/m/api/submit');
    await page.reload();
    await page.waitForSelector('[data-screen=crisis]');
    await page.waitForSelector('#save-status .pl-ok');
    expect(await page.locator('#save-status').textContent()).toMatch(/sent to your care team/);
    expect(await page.evaluate(() => localStorage.getItem('kapkit-measure-pending'))).toBeNull();
    await context.close();
  });

  it('an expired link says so', async () => {
    const url = await sendMeasures(['gad7']);
    ahead = 8 * DAY_MS;
    try {
      const { context, page } = await patientPage();
      await page.goto(url);
      await page.waitForSelector('[data-screen=expired]');
      expect(await page.locator('h1').textContent()).toBe('This link has expired');
      expect(await page.locator('#message').textContent()).toMatch(/Ask your care team for a new one/);
      expect(await axeCheck(page, 'expired link, 390 px')).toEqual([]);
      await page.screenshot({ path: join(artifacts, 'link-expired-390.png'), fullPage: true });
      await context.close();
    } finally {
      ahead = 0;
    }
    expect(pageErrors).toEqual([]);
  });
});
