/**
 * Single sign-on in a real browser: a real OpenID provider (`oidc-provider`, started here on 127.0.0.1 with
 * its development login pages), the dashboard as its client (authorization code + PKCE through
 * `openid-client`), the role taken from the provider's `kapkit_role` claim. No network beyond this machine.
 * Skipped without Chromium outside CI.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { AccountStore, EventStore } from '@kapkit/store';
import Provider from 'oidc-provider';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from '../src/server/app.js';
import { builtClient, chromiumFor, launchChromium, mainTextAt, requireChromium } from './support/browser.js';
import { appendLongEpisode, openTempStore } from './support/store.js';

const A = { patientId: 'test-pt-sso', episodeId: 'test-ep-sso' };
const { executablePath, skip } = chromiumFor('single sign-on browser tests');

/** The provider's accounts: the login name is the account id; its role claim (or none). */
const ROLES: Record<string, string | string[] | undefined> = {
  'sso-medical': ['kap-staff', 'kap-medical'],
  'sso-researcher': 'kap-research',
  'sso-nobody': undefined,
};

describe.skipIf(skip)('single sign-on (OpenID Connect) in a real browser', () => {
  let store: EventStore;
  let dispose: () => Promise<void>;
  let dashboard: ReturnType<typeof serve>;
  let idp: ReturnType<Provider['listen']>;
  let base: string;
  let browser: Browser;
  let accounts: AccountStore;

  beforeAll(async () => {
    const chromiumPath = requireChromium(executablePath);
    ({ store, dispose } = await openTempStore());
    await appendLongEpisode(store, A, { nowMs: Date.now(), daysAgo: 60, weeks: 6, doses: 2 });
    // The dashboard's port first (the provider registers its callback URL), its app once the provider runs.
    let handler: ((req: Request) => Response | Promise<Response>) | null = null;
    dashboard = await new Promise((resolve) => {
      const s = serve(
        {
          fetch: (req, env) =>
            handler
              ? (handler as never as typeof app.fetch)(req, env)
              : new Response('starting', { status: 503 }),
          hostname: '127.0.0.1',
          port: 0,
        },
        () => resolve(s),
      );
    });
    base = `http://127.0.0.1:${(dashboard.address() as AddressInfo).port}`;

    const provider = new Provider('http://127.0.0.1:0', {
      clients: [
        {
          client_id: 'kapkit-dashboard',
          client_secret: 'sso-test-client-secret-0123456789abcdef',
          redirect_uris: [`${base}/auth/oidc/callback`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      pkce: { required: () => true },
      claims: { openid: ['sub'], email: ['email'], profile: ['name', 'kapkit_role'] },
      cookies: { keys: ['sso-test-cookie-key-0123456789'] },
      findAccount: async (_ctx, sub) => ({
        accountId: sub,
        claims: async () => ({
          sub,
          email: `${sub}@idp.clinic.example`,
          name: `SSO ${sub}`,
          ...(ROLES[sub] !== undefined ? { kapkit_role: ROLES[sub] } : {}),
        }),
      }),
    });
    // The issuer must be the URL it is reached by: listen first, then set it.
    idp = await new Promise((resolve) => {
      const s = provider.listen(0, '127.0.0.1', () => resolve(s));
    });
    const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    provider.issuer = issuer;

    let app: ReturnType<typeof createDashboardApp>['app'];
    ({ app, accounts } = createDashboardApp({
      store,
      staticFiles: builtClient(),
      log: () => {},
      auth: {
        oidc: {
          issuer,
          clientId: 'kapkit-dashboard',
          clientSecret: 'sso-test-client-secret-0123456789abcdef',
          origin: base,
          roleMap: { 'kap-medical': 'medical', 'kap-research': 'researcher' },
          label: 'Sign in with the clinic account',
        },
      },
    }));
    handler = app.fetch as never;
    const team = await accounts.createTeam('SSO team', Date.now());
    await accounts.setTeamPatients(team.id, [A.patientId], true);
    browser = await launchChromium(chromiumPath);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (dashboard ? dashboard.close(() => r()) : r()));
    await new Promise<void>((r) => (idp ? idp.close(() => r()) : r()));
    await dispose?.();
  });

  /** Sign in through the provider's login and consent pages. */
  async function ssoSignIn(login: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/auth/sign-in`);
    await page.click('#sso');
    await page.waitForSelector('input[name="login"]');
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', 'any password');
    await page.click('button[type="submit"]');
    await page.waitForSelector('button[autofocus]');
    await page.click('button[autofocus]');
    return page;
  }

  it('signs a clinician in with the role mapped from the provider’s claim', async () => {
    const page = await ssoSignIn('sso-medical');
    await page.waitForSelector('#signed-in-as');
    expect(await page.locator('#signed-in-as').textContent()).toMatch(/medical/);
    const user = await accounts.userByEmail('sso-medical@idp.clinic.example');
    expect(user).toMatchObject({ role: 'medical', hasPassword: false });
    expect(user?.oidc?.subject).toBe('sso-medical');
    // A new account is in no care team yet: an administrator assigns it.
    await page.waitForSelector('main[data-ready]');
    const entries = await accounts.searchAudit({ actorId: user!.id });
    expect(entries.find((e) => e.action === 'sign-in')).toMatchObject({ outcome: 'allowed', reason: 'oidc' });
    await page.context().close();
  });

  it('gives a researcher the cohort, never a patient page', async () => {
    const page = await ssoSignIn('sso-researcher');
    expect(await mainTextAt(page, base, 'main[data-ready="/cohort"]', `/patients/${A.patientId}`)).toMatch(
      /Researchers see the cohort/,
    );
    await page.context().close();
  });

  it('refuses an identity without a kapkit role, and audits it', async () => {
    const page = await ssoSignIn('sso-nobody');
    await page.waitForSelector('#message');
    expect(await page.locator('#message').textContent()).toMatch(/no kapkit role/);
    expect(await accounts.userByEmail('sso-nobody@idp.clinic.example')).toBeNull();
    const [entry] = await accounts.searchAudit({ outcome: 'denied', limit: 1 });
    expect(entry).toMatchObject({ action: 'sign-in', reason: 'oidc-no-role' });
    await page.context().close();
  });
});
