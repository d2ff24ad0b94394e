import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The front end: plain TypeScript modules, built to static files the server serves under a strict CSP
// (no inline script or style, so no module-preload polyfill injected into the page). Two entries: the
// clinicians' app (index.html) and the patient's page of a measure link (m/index.html, served at /m/<token>),
// which imports no clinician code.
const client = (path: string) => fileURLToPath(new URL(`./src/client/${path}`, import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('./src/client', import.meta.url)),
  base: '/',
  publicDir: fileURLToPath(new URL('./src/client/public', import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL('./dist/client', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    sourcemap: true,
    assetsInlineLimit: 0,
    rolldownOptions: { input: { index: client('index.html'), 'patient-link': client('m/index.html') } },
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': 'http://127.0.0.1:8787' },
  },
});
