/**
 * The dashboard front end: a few pages rendered from the JSON API with plain DOM code and chart.js
 * configurations from @kapkit/charts. Navigation uses the History API; the server answers every page path
 * with index.html.
 */
import './styles.css';
import { api } from './api.js';
import { h, mount } from './dom.js';
import { leavePage } from './lifecycle.js';
import { renderCaseload } from './pages/caseload.js';
import { loadSession } from './session.js';
import { errorBox } from './ui.js';

// Only the caseload is in the first load. The chart pages load chart.js on demand (the caseload and the forms
// do not need it), and the recording forms and the export page load when first opened.
const patientPage = () => import('./pages/patient.js');
const cohortPage = () => import('./pages/cohort.js');
const recordPage = () => import('./pages/record.js');
const exportPage = () => import('./pages/export.js');

const main = document.getElementById('main') as HTMLElement;
let generation = 0;

async function route(): Promise<void> {
  const mine = ++generation;
  leavePage();
  const url = new URL(location.href);
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  document.querySelectorAll<HTMLAnchorElement>('header nav a').forEach((a) => {
    const here = a.pathname === '/' ? path === '/' || parts[0] === 'patients' : path.startsWith(a.pathname);
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  mount(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    let page: Node;
    if (path === '/') page = await renderCaseload();
    else if (parts[0] === 'patients' && parts[1] && parts.length === 2)
      page = await (await patientPage()).renderPatient(
        parts[1],
        url.searchParams.get('episode') ?? undefined,
      );
    else if (parts[0] === 'patients' && parts[1] && parts[2] === 'record')
      page = await (await recordPage()).renderRecord(parts[1], url.searchParams.get('form') ?? undefined);
    else if (path === '/cohort') page = await (await cohortPage()).renderCohort();
    else if (path === '/export') page = await (await exportPage()).renderExport();
    else
      page = h(
        'section',
        {},
        h('h1', {}, 'Not found'),
        h('p', {}, h('a', { href: '/', 'data-link': true }, 'Back to the caseload')),
      );
    if (mine !== generation) return;
    mount(main, page);
    document.title = `${main.querySelector('h1')?.textContent ?? 'kapkit'} · kapkit dashboard`;
    main.dispatchEvent(new CustomEvent('kapkit:rendered', { bubbles: true }));
    main.setAttribute('data-ready', path);
  } catch (error) {
    if (mine !== generation) return;
    mount(main, errorBox(error));
    main.setAttribute('data-ready', path);
  }
}

/** Go to a path inside the app without reloading. */
function navigate(to: string): void {
  history.pushState(null, '', to);
  void route().then(() => main.focus({ preventScroll: false }));
}

document.addEventListener('click', (event) => {
  const a = (event.target as Element | null)?.closest?.('a[data-link]') as HTMLAnchorElement | null;
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
    return;
  if (a.origin !== location.origin) return;
  event.preventDefault();
  navigate(a.pathname + a.search);
});
window.addEventListener('popstate', () => void route());

/** Who is signed in, and the sign-out button (a form post with the session's CSRF token). */
function renderAccount(session: Awaited<ReturnType<typeof loadSession>>): void {
  const header = document.querySelector('header.top');
  if (!header) return;
  const role = session.user.role;
  // Researchers see the cohort and the export; administrators manage accounts and the audit trail.
  document.querySelectorAll<HTMLAnchorElement>('header nav a').forEach((a) => {
    if (a.pathname === '/' && role !== 'therapist' && role !== 'medical') a.hidden = true;
  });
  const nav = header.querySelector('nav');
  if (role === 'admin' && nav) nav.append(h('a', { href: '/admin/audit' }, 'Audit trail'));
  header.append(
    h(
      'form',
      { method: 'post', action: '/auth/sign-out', class: 'account' },
      h('span', { id: 'signed-in-as' }, `${session.user.displayName} · ${role}`),
      h('input', { type: 'hidden', name: 'csrf', value: session.csrfToken }),
      h('button', { type: 'submit', class: 'button small', id: 'sign-out' }, 'Sign out'),
    ),
  );
}

loadSession()
  .then(async (session) => {
    renderAccount(session);
    const role = session.user.role;
    if (location.pathname === '/' && role === 'researcher') history.replaceState(null, '', '/cohort');
    if (location.pathname === '/' && role === 'admin') {
      location.assign('/admin/audit');
      return;
    }
    // The session's idle limit also ends an open page: check each minute (without counting as activity).
    setInterval(() => void loadSession(false).catch(() => {}), 60_000);
    api
      .meta()
      .then((meta) => {
        const banner = document.getElementById('demo-banner');
        if (banner) banner.hidden = !meta.demo;
      })
      .catch(() => {});
    await route();
  })
  .catch((error: unknown) => mount(main, errorBox(error)));
