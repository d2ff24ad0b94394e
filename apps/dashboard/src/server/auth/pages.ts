/**
 * The server-rendered pages of signing in, one-time links, first set-up and the admin's audit search: plain
 * HTML forms that work without script, under the same CSP as the app (no inline script or style; the
 * stylesheet is `/auth/auth.css`). Every value is HTML-escaped.
 */

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** A tagged template that escapes interpolated values unless they are {@link Raw}. */
export class Raw {
  constructor(readonly html: string) {}
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => {
    const part = Array.isArray(v)
      ? v.map((x) => (x instanceof Raw ? x.html : escapeHtml(x))).join('')
      : v instanceof Raw
        ? v.html
        : v === null || v === undefined || v === false
          ? ''
          : escapeHtml(v);
    out += part + strings[i + 1]!;
  });
  return new Raw(out);
}

export const AUTH_CSS = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; background: Canvas; color: CanvasText; }
main { max-width: 34rem; margin: 3rem auto; padding: 0 1rem; }
main.wide { max-width: 72rem; }
h1 { font-size: 1.4rem; }
label { display: block; margin: 0.8rem 0 0.2rem; font-weight: 600; }
input, select { font: inherit; padding: 0.4rem; width: 100%; box-sizing: border-box; }
.filters { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: 0 1rem; }
button, .button { display: inline-block; font: inherit; margin-top: 1rem; padding: 0.5rem 1rem; cursor: pointer; }
.notice { padding: 0.6rem 0.8rem; border-left: 4px solid #b45309; background: color-mix(in srgb, #f59e0b 15%, Canvas); }
.error { padding: 0.6rem 0.8rem; border-left: 4px solid #b91c1c; background: color-mix(in srgb, #ef4444 15%, Canvas); }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid color-mix(in srgb, CanvasText 20%, Canvas); }
.muted { opacity: 0.75; }
`;

/** A whole page. */
export function page(title: string, body: Raw, options: { wide?: boolean } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · kapkit dashboard</title>
<link rel="stylesheet" href="/auth/auth.css">
</head>
<body><main${options.wide ? ' class="wide"' : ''}>${body.html}</main></body>
</html>`;
}

export function signInPage(o: {
  email?: string;
  error?: string | null;
  notice?: string | null;
  sso?: { label: string } | null;
}): string {
  return page(
    'Sign in',
    html`<h1>Sign in to the kapkit dashboard</h1>
${o.notice ? html`<p class="notice" role="status" id="notice">${o.notice}</p>` : ''}
${o.error ? html`<p class="error" role="alert" id="error">${o.error}</p>` : ''}
<form method="post" action="/auth/sign-in">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${o.email ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
${o.sso ? html`<p><a class="button" href="/auth/oidc/start" id="sso">${o.sso.label}</a></p>` : ''}`,
  );
}

export function messagePage(title: string, message: string, link?: { href: string; text: string }): string {
  return page(
    title,
    html`<h1>${title}</h1><p id="message">${message}</p>${link ? html`<p><a href="${link.href}">${link.text}</a></p>` : ''}`,
  );
}

/** A one-time sign-in link: a button (so a link preview cannot use it up), and an optional new password. */
export function linkPage(o: {
  action: string;
  email: string;
  role: string;
  needsPassword: boolean;
  error?: string | null;
}): string {
  return page(
    'Sign in',
    html`<h1>Sign in as ${o.email}</h1>
<p>Role: <strong id="role">${o.role}</strong>. This link works once.</p>
${o.error ? html`<p class="error" role="alert" id="error">${o.error}</p>` : ''}
<form method="post" action="${o.action}">
<label for="password">${o.needsPassword ? 'Choose a password' : 'New password (optional)'}</label>
<input id="password" name="password" type="password" autocomplete="new-password" minlength="12"${o.needsPassword ? ' required' : ''}>
<p class="muted">At least 12 characters.${o.needsPassword ? '' : ' Leave empty to keep signing in as you do now.'}</p>
<button type="submit" id="continue">Sign in</button>
</form>`,
  );
}

export function setUpPage(o: {
  action: string;
  error?: string | null;
  email?: string;
  name?: string;
}): string {
  return page(
    'Set up',
    html`<h1>Set up the kapkit dashboard</h1>
<p>Create the first administrator. Administrators manage accounts, care teams and the audit trail; clinicians
see the patients of their care teams.</p>
${o.error ? html`<p class="error" role="alert" id="error">${o.error}</p>` : ''}
<form method="post" action="${o.action}">
<label for="name">Name</label>
<input id="name" name="name" autocomplete="name" value="${o.name ?? ''}">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${o.email ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" minlength="12" required>
<button type="submit">Create the administrator</button>
</form>`,
  );
}
