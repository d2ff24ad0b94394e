/**
 * @kapkit/charts/render: server-side PNG rendering of the chart configurations with chart.js on
 * `@napi-rs/canvas` (Skia, prebuilt; no system libraries such as Cairo needed). Node.js only.
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { KapkitError } from '@kapkit/core/read';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { Chart, type ChartConfiguration, type ChartType, type Plugin, registerables } from 'chart.js';
import annotationPlugin from 'chartjs-plugin-annotation';
import { registerDateAdapter } from './date-adapter.js';
import { palette } from './palette.js';

/** Options of {@link renderChartPng}. */
export interface RenderOptions {
  /** Width of the chart in CSS pixels (1–8000). */
  readonly width: number;
  /** Height of the chart in CSS pixels (1–8000). */
  readonly height: number;
  /** Pixels per CSS pixel (0 < r ≤ 4; default 1). The PNG is `width·r` × `height·r` pixels (rounded down). */
  readonly devicePixelRatio?: number;
  /** Extra font files (TTF/OTF) to register before rendering, e.g. a clinic's brand font. */
  readonly fontFiles?: readonly string[];
  /** Background colour; default white. */
  readonly background?: string;
}

/** Which fonts the renderer found and uses. */
export interface ChartFontStatus {
  /** The font family chart text is drawn with. */
  readonly family: string;
  /** Font files registered by kapkit (system font files it had to register itself, and `fontFiles`). */
  readonly registered: readonly string[];
  /** Every font family the canvas knows. */
  readonly families: readonly string[];
}

/**
 * No usable font for chart text: a chart without labels must not be shared with a medical team, so
 * {@link renderChartPng} refuses to draw one. Install a font (on Debian: `apt-get install fonts-dejavu-core`)
 * or pass `fontFiles`.
 */
export class ChartFontError extends KapkitError {
  constructor(message: string) {
    super('no-chart-font', message);
    this.name = 'ChartFontError';
  }
}

/** Families tried in order; the first one the canvas knows draws all chart text. */
const PREFERRED_FAMILIES = [
  'DejaVu Sans',
  'Liberation Sans',
  'Noto Sans',
  'Arial',
  'Helvetica',
  'Open Sans',
  'Roboto',
  'Lato',
];

/**
 * Font files registered when the canvas found no system font by itself (Debian/Ubuntu, Fedora, Arch,
 * Alpine, macOS, Windows). Nothing is ever downloaded.
 */
const FALLBACK_FONT_FILES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf',
  '/usr/share/fonts/noto/NotoSans-Regular.ttf',
  '/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

const registeredFiles: string[] = [];
let registered = false;

function families(): string[] {
  return GlobalFonts.families.map((f) => f.family);
}

function pickFamily(): string | null {
  const known = families();
  for (const f of PREFERRED_FAMILIES) if (known.includes(f)) return f;
  return known.find((f) => !/mono|math/i.test(f)) ?? known[0] ?? null;
}

function registerFile(path: string): boolean {
  if (registeredFiles.includes(path)) return true;
  if (!existsSync(path)) return false;
  const ok = GlobalFonts.registerFromPath(path) !== null;
  if (ok) registeredFiles.push(path);
  return ok;
}

/**
 * Find the font chart text is drawn with, registering `fontFiles` first. @napi-rs/canvas loads the system's
 * fonts by itself; when it found none, the usual system font files are registered by path. Called by
 * {@link renderChartPng}; call it yourself to check a machine (e.g. in a health check).
 *
 * @example
 * ```ts
 * ensureChartFonts().family; // 'DejaVu Sans' on Debian with fonts-dejavu-core
 * ```
 * @throws {ChartFontError} when no font can be found: nothing would be written on the chart.
 */
export function ensureChartFonts(fontFiles: readonly string[] = []): ChartFontStatus {
  for (const f of fontFiles) {
    if (!registerFile(f))
      throw new ChartFontError(`Cannot load the font file "${f}": no such file, or not a font.`);
  }
  let family = pickFamily();
  if (family === null) {
    for (const f of FALLBACK_FONT_FILES) if (registerFile(f)) break;
    family = pickFamily();
  }
  if (family === null) {
    throw new ChartFontError(
      'No font is available to draw chart text (titles, labels, legends), so no chart was rendered. Install one (Debian/Ubuntu: apt-get install fonts-dejavu-core) or pass fontFiles with the path of a TTF/OTF file.',
    );
  }
  return { family, registered: [...registeredFiles], families: families() };
}

function register(): void {
  if (registered) return;
  Chart.register(...registerables, annotationPlugin);
  registerDateAdapter();
  registered = true;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Deep copy of plain objects and arrays (functions and other objects are shared): chart.js mutates its config. */
function cloneConfig<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => cloneConfig(v)) as T;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = cloneConfig(v);
    return out as T;
  }
  return value;
}

function backgroundPlugin(color: string): Plugin {
  return {
    id: 'kapkitBackground',
    beforeDraw(chart) {
      const ctx = chart.ctx;
      ctx.save();
      ctx.globalCompositeOperation = 'destination-over';
      ctx.fillStyle = color;
      ctx.fillRect(0, 0, chart.width, chart.height);
      ctx.restore();
    },
  };
}

function checkSize(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new RangeError(`renderChartPng: ${name} must be a whole number from 1 to ${max}, got ${String(v)}`);
  }
  return v;
}

/**
 * Render a chart.js configuration (any builder of `@kapkit/charts`, or your own) to a PNG, on the server.
 * chart.js's controllers, elements, scales and plugins, `chartjs-plugin-annotation` and a date-fns date
 * adapter (equivalent to `chartjs-adapter-date-fns`, see `date-adapter.ts`) are registered once; the configuration is copied (chart.js mutates what it is given) and drawn
 * without animation, not responsive, at `devicePixelRatio`, on a white background. Text uses
 * {@link ensureChartFonts}'s family. Tick labels of a time axis are formatted in the process's local time
 * zone (`TZ`).
 *
 * @example
 * ```ts
 * import { outcomeChartConfig } from '@kapkit/charts';
 * import { renderChartPng } from '@kapkit/charts/render';
 * const png = await renderChartPng(outcomeChartConfig({ context }), { width: 1200, height: 700, devicePixelRatio: 2 });
 * await writeFile('outcome.png', png); // 2400 × 1400 pixels
 * ```
 * @throws {ChartFontError} when no font is available (see {@link ensureChartFonts}).
 * @throws {RangeError} for a size or pixel ratio out of range.
 */
export async function renderChartPng<TType extends ChartType = ChartType, TData = unknown, TLabel = unknown>(
  config: ChartConfiguration<TType, TData, TLabel>,
  options: RenderOptions,
): Promise<Buffer> {
  const width = checkSize('width', options.width, 8000);
  const height = checkSize('height', options.height, 8000);
  const ratio = options.devicePixelRatio ?? 1;
  if (typeof ratio !== 'number' || !(ratio > 0 && ratio <= 4)) {
    throw new RangeError(
      `renderChartPng: devicePixelRatio must be a number above 0 and at most 4, got ${String(ratio)}`,
    );
  }
  const fonts = ensureChartFonts(options.fontFiles);
  register();
  Chart.defaults.font.family = `'${fonts.family}', sans-serif`;
  Chart.defaults.color = palette.text;

  const cfg = cloneConfig(config) as unknown as ChartConfiguration;
  cfg.options = {
    ...cfg.options,
    responsive: false,
    maintainAspectRatio: false,
    animation: false,
    devicePixelRatio: ratio,
    events: [],
  };
  cfg.plugins = [...(cfg.plugins ?? []), backgroundPlugin(options.background ?? palette.background)];

  const canvas = createCanvas(width, height);
  // chart.js's platform for non-DOM canvases draws on whatever has getContext('2d').
  const chart = new Chart(canvas as unknown as ConstructorParameters<typeof Chart>[0], cfg);
  try {
    return await canvas.encode('png');
  } finally {
    chart.destroy();
  }
}
