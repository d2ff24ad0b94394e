import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { outcomeChartConfig } from '../src/index.js';
import { ChartFontError, ensureChartFonts, renderChartPng } from '../src/render.js';
import { referenceCharts, referenceStory } from './reference-story.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from the IHDR chunk, which must come first. */
function ihdr(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(png.toString('latin1', 12, 16)).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Decode a PNG and count pixels that are not (near) white, and the distinct colours among them. */
async function inkOf(
  png: Buffer,
): Promise<{ ink: number; total: number; colours: number; transparent: number }> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const { data } = ctx.getImageData(0, 0, image.width, image.height);
  let ink = 0;
  let transparent = 0;
  const colours = new Set<number>();
  for (let i = 0; i < data.length; i += 4) {
    const r = data[i]!;
    const g = data[i + 1]!;
    const b = data[i + 2]!;
    if (r < 245 || g < 245 || b < 245) {
      ink++;
      colours.add((r >> 4) * 256 + (g >> 4) * 16 + (b >> 4));
    }
    if (data[i + 3] !== 255) transparent++;
  }
  expect(transparent).toBe(0); // opaque everywhere: the background plugin ran
  return { ink, total: data.length / 4, colours: colours.size, transparent };
}

const context = referenceStory().context();

describe('renderChartPng', { timeout: 60_000 }, () => {
  it('renders the outcome chart to a PNG of the asked size × pixel ratio, not blank', async () => {
    const png = await renderChartPng(outcomeChartConfig({ context }), {
      width: 1200,
      height: 720,
      devicePixelRatio: 1.5,
    });
    expect(ihdr(png)).toEqual({ width: 1800, height: 1080 });
    const { ink, total, colours } = await inkOf(png);
    // Bands and windows shade most of the plot area; lines, markers and text add many distinct colours.
    expect(ink / total).toBeGreaterThan(0.4);
    expect(colours).toBeGreaterThan(50);
    writeFileSync(join(tmpdir(), 'kapkit-outcome-chart.png'), png);
  });

  it('renders every builder', async () => {
    const configs = referenceCharts(context);
    for (const [name, config] of Object.entries(configs)) {
      const png = await renderChartPng(config as Parameters<typeof renderChartPng>[0], {
        width: 640,
        height: 400,
      });
      expect(ihdr(png), name).toEqual({ width: 640, height: 400 });
      const { ink, total } = await inkOf(png);
      expect(ink / total, name).toBeGreaterThan(0.02);
      writeFileSync(join(tmpdir(), `kapkit-${name}-chart.png`), png);
    }
  });

  it('draws text with a real font, and is deterministic', async () => {
    const fonts = ensureChartFonts();
    expect(fonts.family).not.toBe('');
    const probe = createCanvas(200, 50).getContext('2d');
    probe.font = `16px '${fonts.family}'`;
    expect(probe.measureText('PHQ-9 Dose 1').width).toBeGreaterThan(50);

    // A chart with only a title: the title's pixels are the only ink.
    const titleOnly = {
      type: 'line' as const,
      data: { datasets: [] },
      options: {
        scales: { x: { display: false }, y: { display: false } },
        plugins: { legend: { display: false }, title: { display: true, text: 'PHQ-9 and GAD-7' } },
      },
    };
    const untitled = {
      ...titleOnly,
      options: { ...titleOnly.options, plugins: { legend: { display: false } } },
    };
    const withTitle = await inkOf(await renderChartPng(titleOnly, { width: 300, height: 120 }));
    const without = await inkOf(await renderChartPng(untitled, { width: 300, height: 120 }));
    expect(without.ink).toBe(0);
    expect(withTitle.ink).toBeGreaterThan(200);

    const config = outcomeChartConfig({ context });
    const once = await renderChartPng(config, { width: 500, height: 300 });
    const twice = await renderChartPng(config, { width: 500, height: 300 });
    expect(once.equals(twice)).toBe(true);
    expect(config).toEqual(outcomeChartConfig({ context })); // the caller's configuration is not mutated
  });

  it('rejects bad sizes and missing font files clearly', async () => {
    const config = outcomeChartConfig({ context });
    await expect(renderChartPng(config, { width: 0, height: 300 })).rejects.toThrow(RangeError);
    await expect(renderChartPng(config, { width: 300, height: 300, devicePixelRatio: 9 })).rejects.toThrow(
      /devicePixelRatio/,
    );
    await expect(
      renderChartPng(config, { width: 300, height: 300, fontFiles: ['/nonexistent/font.ttf'] }),
    ).rejects.toThrow(ChartFontError);
  });
});
