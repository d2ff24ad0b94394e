/**
 * The patient page's "Patient-reported measures": send measures (a link to copy or show as a QR code, and an
 * e-mail when reminders are configured), the requests sent, opened, completed and expired, a new link or a
 * withdrawal for an open one, and the patient's e-mail for reminders.
 */
import type {
  MeasureLinkResponse,
  MeasureRequestView,
  PatientMeasureRequestsResponse,
} from '../../shared/measure-requests.js';
import { api } from '../api.js';
import { h, mount, on } from '../dom.js';
import { dayTime } from '../format.js';
import { dataTable } from '../ui.js';

const STATUS_WORD: Record<string, string> = {
  sent: 'Sent',
  opened: 'Opened',
  completed: 'Completed',
  expired: 'Expired',
  revoked: 'Withdrawn',
};

const EMAIL_WORD: Record<string, string> = {
  pending: 'e-mail queued',
  sending: 'e-mail sending',
  sent: 'e-mailed',
  failed: 'e-mail failed',
  uncertain: 'e-mail may not have arrived',
  cancelled: 'e-mail not sent',
};

/** A QR code of `url` as an SVG (drawn from the code's modules: no image, no inline markup parsing). */
async function qrCode(url: string): Promise<SVGSVGElement> {
  const { create } = await import('qrcode');
  const code = create(url, { errorCorrectionLevel: 'M' });
  const size = code.modules.size;
  const margin = 4;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size + 2 * margin} ${size + 2 * margin}`);
  svg.setAttribute('class', 'qr');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'QR code of the link, for the patient to scan');
  const background = document.createElementNS(ns, 'rect');
  background.setAttribute('width', '100%');
  background.setAttribute('height', '100%');
  background.setAttribute('fill', '#fff');
  let d = '';
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) if (code.modules.get(r, c)) d += `M${c + margin} ${r + margin}h1v1h-1z`;
  }
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  svg.append(background, path);
  return svg;
}

/** The link just made: shown once (only its hash is stored), with copy and QR code. */
function linkBox(made: MeasureLinkResponse): HTMLElement {
  const input = h('input', {
    type: 'text',
    readonly: true,
    value: made.url,
    id: 'measure-link',
    class: 'link-field',
    'aria-label': 'Link for the patient',
  });
  const copied = h('span', { class: 'form-status', role: 'status' });
  const qrSlot = h('div', { class: 'qr-slot' });
  const copy = on(
    h('button', { type: 'button', class: 'button small', id: 'copy-link' }, 'Copy link'),
    'click',
    async () => {
      try {
        await navigator.clipboard.writeText(made.url);
        copied.textContent = 'Copied.';
      } catch {
        input.select();
        copied.textContent = 'Select the link and copy it.';
      }
    },
  );
  const qr = on(
    h('button', { type: 'button', class: 'button small', id: 'show-qr' }, 'Show QR code'),
    'click',
    async () => {
      mount(qrSlot, await qrCode(made.url));
      qr.disabled = true;
    },
  );
  return h(
    'div',
    { class: 'link-box', id: 'link-box' },
    h(
      'p',
      {},
      h('strong', {}, 'Link for the patient'),
      ` (works until ${dayTime(made.expiresAt)}; shown once, not stored):`,
    ),
    input,
    h('p', {}, copy, ' ', qr, ' ', copied),
    qrSlot,
  );
}

function requestRow(r: MeasureRequestView, onChange: () => void, slot: HTMLElement): HTMLElement {
  const open = r.status === 'sent' || r.status === 'opened';
  const actions = open
    ? [
        on(h('button', { type: 'button', class: 'button small' }, 'New link'), 'click', async () => {
          mount(slot, linkBox(await api.newMeasureLink(r.id)));
        }),
        ' ',
        on(h('button', { type: 'button', class: 'button small link' }, 'Withdraw'), 'click', async () => {
          await api.revokeMeasureRequest(r.id);
          onChange();
        }),
      ]
    : null;
  const when =
    r.status === 'completed'
      ? `completed ${dayTime(r.completedAt)}`
      : r.status === 'revoked'
        ? `withdrawn ${dayTime(r.revokedAt)}`
        : r.status === 'expired'
          ? `expired ${dayTime(r.expiresAt)}`
          : `${r.openedAt ? `opened ${dayTime(r.openedAt)}; ` : ''}works until ${dayTime(r.expiresAt)}`;
  return h(
    'tr',
    { 'data-request': r.id, 'data-status': r.status },
    h('td', {}, r.instruments.map((i) => i.name).join(', ')),
    h('td', {}, h('span', { class: `tag status-${r.status}` }, STATUS_WORD[r.status] ?? r.status)),
    h(
      'td',
      {},
      `${dayTime(r.createdAt)} (${r.origin === 'automatic' ? 'monitoring plan' : 'sent by the care team'})`,
    ),
    h(
      'td',
      {},
      when,
      r.email
        ? h('span', { class: 'muted small' }, ` · ${EMAIL_WORD[r.email.status] ?? r.email.status}`)
        : null,
    ),
    h('td', {}, actions),
  );
}

/** The section; re-rendered in place after each change. */
export async function measureRequestsSection(patientId: string): Promise<HTMLElement> {
  const section = h('section', {
    class: 'measure-requests',
    id: 'measure-requests',
    'aria-labelledby': 'measures-heading',
  });
  const render = async (made: MeasureLinkResponse | null = null) => {
    const data: PatientMeasureRequestsResponse = await api.measureRequests(patientId);
    const slot = h('div', { class: 'link-slot' }, made ? linkBox(made) : null);
    const rerender = () => void render();
    const boxes = data.sendable.map((i) =>
      h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          name: 'instrument',
          value: i.id,
          checked: i.id === 'phq9' || i.id === 'gad7',
        }),
        ` ${i.name}`,
      ),
    );
    const status = h('span', { class: 'form-status', 'aria-live': 'polite' });
    const emailing = data.reminders === 'email' && data.contact !== null;
    const form = h(
      'form',
      { class: 'send-measures', id: 'send-measures' },
      h('fieldset', {}, h('legend', {}, 'Measures to send'), boxes),
      h(
        'p',
        { class: 'muted small' },
        emailing
          ? `The link is e-mailed to ${data.contact} (no health information in the message) and shown here to copy.`
          : data.reminders === 'email'
            ? 'No e-mail address on file: copy the link or show its QR code.'
            : 'E-mail reminders are off (no SMTP server configured): copy the link or show its QR code.',
        ` Links work ${data.linkDays} days and once.`,
      ),
      h('button', { type: 'submit', class: 'button primary', id: 'send-measures-button' }, 'Send measures'),
      ' ',
      status,
    );
    on(form, 'submit', async (event) => {
      event.preventDefault();
      const instruments = [...form.querySelectorAll<HTMLInputElement>('input[name=instrument]:checked')].map(
        (i) => i.value,
      );
      if (instruments.length === 0) {
        status.textContent = 'Choose at least one measure.';
        return;
      }
      try {
        await render(await api.sendMeasures(patientId, { instruments }));
        section.querySelector<HTMLInputElement>('#measure-link')?.focus();
      } catch (error) {
        mount(status, h('span', { class: 'error-box', role: 'alert' }, (error as Error).message));
      }
    });
    const email = h('input', {
      type: 'email',
      id: 'patient-email',
      value: data.contact ?? '',
      autocomplete: 'off',
    });
    const emailStatus = h('span', { class: 'form-status', 'aria-live': 'polite' });
    const contact = on(
      h(
        'form',
        { class: 'patient-contact' },
        h('label', { for: 'patient-email' }, 'E-mail for measure reminders'),
        ' ',
        email,
        ' ',
        h('button', { type: 'submit', class: 'button small' }, 'Save'),
        ' ',
        emailStatus,
      ),
      'submit',
      async (event) => {
        event.preventDefault();
        try {
          await api.setPatientContact(patientId, email.value.trim() || null);
          emailStatus.textContent = 'Saved.';
        } catch (error) {
          mount(emailStatus, h('span', { class: 'error-box', role: 'alert' }, (error as Error).message));
        }
      },
    );
    mount(
      section,
      h('h2', { id: 'measures-heading' }, 'Patient-reported measures'),
      h(
        'p',
        { class: 'muted small' },
        'The patient answers on their phone through a link (no sign-in). Answers are recorded as patient-reported; a positive PHQ-9 item 9 shows them a crisis screen and raises an urgent alert here.',
      ),
      form,
      slot,
      data.requests.length
        ? dataTable(
            { class: 'data requests-table', id: 'requests-table' },
            'Measure requests, newest first',
            ['Measures', 'Status', 'Created', 'Details', 'Actions'],
            h(
              'tbody',
              {},
              data.requests.map((r) => requestRow(r, rerender, slot)),
            ),
          )
        : h('p', { class: 'muted' }, 'No measure requests yet.'),
      contact,
    );
  };
  await render();
  return section;
}
