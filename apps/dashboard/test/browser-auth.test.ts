import { join } from 'node:path';
import type { AccountStore } from '@kapkit/store';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, browserSuite, mainTextAt } from './support/browser.js';
import { appendLongEpisode } from './support/store.js';

const artifacts = artifactsDir('dashboard');
const MIN = 60_000;
const NOW = Date.now();
const A = { patientId: 'test-pt-team-a', episodeId: 'test-ep-team-a' };
const B = { patientId: 'test-pt-team-b', episodeId: 'test-ep-team-b' };
const PASSWORD = 'browser sign-in passphrase';

const suite = browserSuite('sign-in browser tests');

describe.skipIf(suite.skip)('signing in, in a real browser', () => {
  /** The server's clock runs this far ahead of the real one (moved by the idle test). */
  let ahead = 0;
  const running = suite.dashboard(() => ({
    seed: async (s) => {
      for (const p of [A, B]) await appendLongEpisode(s, p, { nowMs: NOW, daysAgo: 70, weeks: 8, doses: 3 });
    },
    app: { now: () => Date.now() + ahead, auth: { lockout: { maxFailures: 3, lockMs: 15 * MIN } } },
  }));
  let accounts: AccountStore;

  beforeAll(async () => {
    accounts = running.dashboard.accounts;
    const teamA = await accounts.createTeam('Team A', NOW);
    const teamB = await accounts.createTeam('Team B', NOW);
    await accounts.setTeamPatients(teamA.id, [A.patientId], true);
    await accounts.setTeamPatients(teamB.id, [B.patientId], true);
    for (const [email, role, team] of [
      ['ada@clinic.example', 'therapist', teamA.id],
      ['bo@clinic.example', 'therapist', teamB.id],
      ['lock@clinic.example', 'therapist', teamA.id],
      ['rae@clinic.example', 'researcher', null],
      ['root@clinic.example', 'admin', null],
    ] as const) {
      const u = await accounts.createUser({ email, role, password: PASSWORD }, NOW);
      if (team) await accounts.setTeamMember(team, u.id, true);
    }
  });

  /** A fresh browser profile (no cookies) on the sign-in page, signed in when the password is right. */
  async function signIn(email: string, password = PASSWORD): Promise<Page> {
    const page = await (
      await running.browser.newContext({ viewport: { width: 1200, height: 800 } })
    ).newPage();
    await page.goto(`${running.base}/auth/sign-in`);
    await page.fill('#email', email);
    await page.fill('#password', password);
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    await page.waitForLoadState('load');
    return page;
  }

  it('signs a therapist in with the form, shows who is signed in, and signs out', async () => {
    const page = await signIn('ada@clinic.example');
    await page.waitForSelector('main[data-ready="/"]');
    expect(await page.locator('#signed-in-as').textContent()).toMatch(/therapist/);
    const rows = await page
      .locator('table.caseload-table tbody tr')
      .evaluateAll((r) => r.map((x) => x.getAttribute('data-patient')));
    expect(rows).toEqual([A.patientId]);
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'kapkit_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    await page.screenshot({ path: join(artifacts, 'signed-in.png') });
    await Promise.all([page.waitForURL(/\/auth\/sign-in\?reason=signed-out/), page.click('#sign-out')]);
    expect(await page.locator('#notice').textContent()).toMatch(/signed out/);
    await page.goto(`${running.base}/`);
    await page.waitForURL(/\/auth\/sign-in/);
    await page.context().close();
  });

  it('says the e-mail or password is wrong, and locks the account after repeated attempts', async () => {
    const wrong = await signIn('ada@clinic.example', 'not the password at all');
    expect(await wrong.locator('#error').textContent()).toMatch(/e-mail or the password is wrong/);
    expect(await wrong.inputValue('#email')).toBe('ada@clinic.example');
    await wrong.screenshot({ path: join(artifacts, 'sign-in-wrong-password.png') });
    await wrong.context().close();
    for (let i = 0; i < 3; i++) await (await signIn('lock@clinic.example', 'wrong again')).context().close();
    const locked = await signIn('lock@clinic.example');
    expect(await locked.locator('#error').textContent()).toMatch(/locked for \d+ more minute/);
    await locked.screenshot({ path: join(artifacts, 'sign-in-locked.png') });
    await locked.context().close();
  });

  it('signs out after 15 minutes without activity: the next click lands on the sign-in page, saying why', async () => {
    const page = await signIn('ada@clinic.example');
    await page.waitForSelector('main[data-ready="/"]');
    ahead += 16 * MIN;
    await page.click(`a[href="/cohort"]`);
    await page.waitForURL(/\/auth\/sign-in\?reason=idle/);
    expect(await page.locator('#notice').textContent()).toMatch(/signed out after a period without activity/);
    await page.screenshot({ path: join(artifacts, 'signed-out-idle.png') });
    await page.context().close();
  });

  /** `email` signed in (once `landing` shows), then on `path`: the page and the text of its main element. */
  async function visitAs(email: string, landing: string, path: string) {
    const page = await signIn(email);
    return { page, main: await mainTextAt(page, running.base, landing, path) };
  }

  it('refuses a therapist the patient page of another team’s patient', async () => {
    const { page, main } = await visitAs('bo@clinic.example', 'main[data-ready]', `/patients/${A.patientId}`);
    expect(main).toMatch(/not in the care of your care teams/);
    expect(await page.locator('canvas#outcome-chart').count()).toBe(0);
    await page.screenshot({ path: join(artifacts, 'refused-other-team.png') });
    await page.context().close();
  });

  it('refuses a researcher a patient page, and opens the cohort for them', async () => {
    const { page, main } = await visitAs(
      'rae@clinic.example',
      'main[data-ready="/cohort"]',
      `/patients/${B.patientId}`,
    );
    expect(main).toMatch(/Researchers see the cohort and the de-identified export only/);
    await page.context().close();
  });

  it('lists each of these in the administrator’s audit trail', async () => {
    const page = await signIn('root@clinic.example');
    await page.waitForURL(/\/admin\/audit/);
    await page.fill('#patientId', A.patientId);
    await page.selectOption('#outcome', 'denied');
    await Promise.all([page.waitForURL(/patientId=/), page.click('#search')]);
    const rows = await page
      .locator('#audit tbody tr')
      .evaluateAll((r) => r.map((x) => [...x.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.some((r) => r[1] === 'bo@clinic.example' && r[8] === 'not-in-care-team')).toBe(true);
    await page.fill('#patientId', '');
    await page.fill('#actor', 'lock@clinic.example');
    await page.selectOption('#outcome', '');
    await Promise.all([page.waitForURL(/actor=/), page.click('#search')]);
    const reasons = await page.locator('#audit tbody tr td:nth-child(9)').allTextContents();
    expect(reasons).toContain('locked');
    expect(reasons).toContain('unknown-or-wrong');
    await page.fill('#actor', 'rae@clinic.example');
    await Promise.all([page.waitForURL(/rae/), page.click('#search')]);
    const routes = await page.locator('#audit tbody tr td:nth-child(5)').allTextContents();
    expect(routes).toContain('GET /api/patients/:patientId');
    await page.screenshot({ path: join(artifacts, 'audit-trail.png'), fullPage: true });
    await page.context().close();
  });
});
