import { join } from 'node:path';
import type { PlacedLabel } from '@kapkit/charts';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedDemoCaseload } from '../src/server/demo.js';
import { passwordAccount } from './support/auth.js';
import { artifactsDir, browserSuite, signInWithPassword } from './support/browser.js';

const artifacts = artifactsDir();
const NOW = Date.now();
const suite = browserSuite('chart browser tests');

const VIEWPORTS = [
  { name: '1440', width: 1440, height: 900 },
  { name: '390', width: 390, height: 844 },
] as const;

describe.skipIf(suite.skip)('charts in a real browser at 1440 and 390 px', () => {
  const running = suite.dashboard(() => ({
    seed: (store) => seedDemoCaseload(store, { nowMs: NOW, patients: 8 }),
  }));
  const pages = new Map<string, Page>();
  const errors: string[] = [];
  let patient = '';

  beforeAll(async () => {
    // A patient in a course with PHQ-9 and GAD-7 scores and a dose: two panels and critical periods.
    const seen = new Map<string, Set<string>>();
    const patients: string[] = [];
    for await (const s of running.store.streamAll()) {
      const e = s.event;
      if (e.type === 'EpisodeOpened') patients.push(e.patientId);
      const id = patients.at(-1)!;
      const kinds = seen.get(id) ?? new Set<string>();
      if (e.type === 'AssessmentRecorded') kinds.add(e.instrument);
      if (e.type === 'DoseAdministered') kinds.add('dose');
      seen.set(id, kinds);
    }
    patient = patients.find((p) => ['phq9', 'gad7', 'dose'].every((k) => seen.get(p)?.has(k))) ?? '';
    await passwordAccount(running.dashboard.accounts, {
      email: 'charts@browser.kapkit.invalid',
      role: 'therapist',
      password: 'chart test passphrase',
      team: 'Chart team',
      patients: [...new Set(patients)],
    });
    for (const v of VIEWPORTS) {
      const page = await (
        await running.browser.newContext({ viewport: { width: v.width, height: v.height } })
      ).newPage();
      page.on('pageerror', (e) => errors.push(`${v.name}: ${e.message}`));
      await signInWithPassword(page, running.base, 'charts@browser.kapkit.invalid', 'chart test passphrase');
      pages.set(v.name, page);
    }
  });

  async function open(page: Page, path: string): Promise<void> {
    await page.goto(`${running.base}${path}`);
    await page.waitForSelector('main[data-ready]');
  }

  /** The label boxes the labels plugin placed on the outcome chart (set on the canvas when it draws). */
  async function labelBoxes(page: Page): Promise<PlacedLabel[]> {
    await page.waitForFunction(() =>
      document.querySelector('#outcome-chart')?.getAttribute('data-label-boxes'),
    );
    return JSON.parse(
      (await page.getAttribute('#outcome-chart', 'data-label-boxes')) ?? '[]',
    ) as PlacedLabel[];
  }

  it.each(VIEWPORTS)(
    'draws one panel per instrument, a today line and no overlapping labels at $name px',
    async (v) => {
      expect(patient).not.toBe('');
      const page = pages.get(v.name)!;
      await open(page, `/patients/${encodeURIComponent(patient)}`);
      const boxes = await labelBoxes(page);
      const ids = boxes.map((b) => b.id);
      // Each instrument's own bands, on its own panel.
      expect(ids).toContain('band-phq9-severe');
      expect(ids).toContain('band-gad7-severe');
      expect(ids.filter((i) => i.startsWith('band-gad7-'))).toHaveLength(4);
      expect(ids.some((i) => i.startsWith('band-gad7-moderately'))).toBe(false);
      // Today: its label is drawn, not dropped.
      expect(boxes.find((b) => b.id === 'today')).toMatchObject({ hidden: false });
      const shown = boxes.filter((b) => !b.hidden);
      for (const [i, a] of shown.entries()) {
        for (const b of shown.slice(i + 1)) {
          const overlap =
            a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
          expect(overlap, `${a.id} overlaps ${b.id}`).toBe(false);
        }
        expect(a.x + a.width).toBeLessThanOrEqual(v.width);
      }
      const label = (await page.getAttribute('#outcome-chart', 'aria-label')) ?? '';
      expect(label).toContain('One panel per measure');
      expect(label).toMatch(/Today \(\d{4}-\d{2}-\d{2}\) is marked/);
      // Nothing on the page scrolls sideways (wide tables scroll inside their own box).
      const wide = await page.evaluate((width) => {
        return [...document.querySelectorAll('main *')]
          .filter(
            (el) =>
              el.getBoundingClientRect().right > width + 1 && !el.closest('.table-wrap, .visually-hidden'),
          )
          .slice(0, 5)
          .map(
            (el) =>
              `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`,
          );
      }, v.width);
      expect(wide).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(v.width);
      await page.screenshot({ path: join(artifacts, `charts-${v.name}.png`), fullPage: true });
    },
  );

  it.each(VIEWPORTS)(
    'gives the item and vitals charts a text alternative from the same data at $name px',
    async (v) => {
      const page = pages.get(v.name)!;
      await open(page, `/patients/${encodeURIComponent(patient)}`);
      for (const id of ['item-chart', 'vitals-chart']) {
        const described = await page.getAttribute(`#${id}`, 'aria-describedby');
        expect(described, id).toBe(`${id}-text`);
        const rows = await page.locator(`#${id}-text tbody tr`).count();
        expect(rows, id).toBeGreaterThan(0);
      }
      expect(await page.locator('#item-chart-text tbody tr').count()).toBe(9);
      // The outcome chart's numbers are in the visible data table.
      expect(await page.locator('#outcome-table tbody tr').count()).toBeGreaterThan(0);
    },
  );

  it.each(VIEWPORTS)('gives the cohort charts a text alternative at $name px', async (v) => {
    const page = pages.get(v.name)!;
    await open(page, '/cohort');
    for (const id of ['trajectory-phq9', 'km-phq9', 'trajectory-gad7', 'km-gad7']) {
      expect(await page.getAttribute(`#${id}`, 'aria-describedby'), id).toBe(`${id}-text`);
      expect(await page.locator(`#${id}-text tbody tr`).count(), id).toBeGreaterThan(0);
    }
    if (v.name === '390') await page.screenshot({ path: join(artifacts, 'cohort-390.png'), fullPage: true });
  });

  it('shows the caseload as cards on a phone, each with its patient and alerts on screen', async () => {
    const page = pages.get('390')!;
    await open(page, '/');
    const rows = page.locator('.caseload-table tbody tr');
    expect(await rows.count()).toBeGreaterThan(0);
    expect(await rows.first().evaluate((tr) => getComputedStyle(tr).display)).toBe('flex');
    for (const selector of ['th.patient', 'td.alerts-cell']) {
      const box = await rows.first().locator(selector).boundingBox();
      expect(box, selector).not.toBeNull();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    }
    // Every card fits the screen: nothing scrolls sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(artifacts, 'caseload-390.png'), fullPage: true });
  });

  it('runs without a script error', () => {
    expect(errors).toEqual([]);
  });
});
