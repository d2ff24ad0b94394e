import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bandTints, compositeOver, contrastRatio, palette, parseColor } from '../src/index.js';

/** Every background a marker or label can sit on: each band tint under 0, 1, 2 or 3 critical-period shades. */
function backgrounds(): { name: string; color: ReturnType<typeof parseColor> }[] {
  const out: { name: string; color: ReturnType<typeof parseColor> }[] = [];
  for (const [i, band] of [palette.background, ...palette.bands].entries()) {
    let c = parseColor(band);
    for (let layers = 0; layers <= 3; layers++) {
      out.push({ name: `${i === 0 ? 'white' : `band ${i}`} + ${layers} window(s)`, color: c });
      c = compositeOver(palette.criticalPeriod, c);
    }
  }
  return out;
}

describe('palette', () => {
  it('computes WCAG contrast ratios', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 10);
    expect(contrastRatio('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
    expect(parseColor('#abc')).toEqual({ r: 170, g: 187, b: 204, a: 1 });
    expect(() => parseColor('red')).toThrow(TypeError);
  });

  it('keeps label text at ≥ 4.5:1 on every band tint, even under three overlapping critical periods', () => {
    for (const bg of backgrounds()) {
      expect(contrastRatio(palette.text, bg.color), bg.name).toBeGreaterThanOrEqual(4.5);
    }
    // Muted text (axis titles, subtitles) is drawn outside the plot area, on the white background.
    expect(contrastRatio(palette.mutedText, palette.background)).toBeGreaterThanOrEqual(4.5);
  });

  it('keeps lines and markers at ≥ 3:1 (WCAG 1.4.11) on the same backgrounds', () => {
    const marks = [
      ...palette.series,
      palette.dose,
      palette.safety,
      palette.improved,
      palette.deteriorated,
      palette.hold,
      ...palette.vitals,
    ];
    for (const m of marks) {
      for (const bg of backgrounds())
        expect(contrastRatio(m, bg.color), `${m} on ${bg.name}`).toBeGreaterThanOrEqual(3);
    }
  });

  it('spreads band tints over the palette, least to most severe', () => {
    expect(bandTints(5)).toEqual(palette.bands.slice(0, 5));
    expect(bandTints(4)).toEqual([palette.bands[0], palette.bands[1], palette.bands[3], palette.bands[4]]);
    expect(bandTints(0)).toEqual([]);
    expect(bandTints(7)).toHaveLength(7);
  });
});

describe('browser safety', () => {
  it('keeps Node built-ins and the canvas out of every module the main entry can reach', () => {
    const dir = join(import.meta.dirname, '..', 'src');
    const reachable = new Set<string>();
    const visit = (file: string) => {
      if (reachable.has(file)) return;
      reachable.add(file);
      const text = readFileSync(join(dir, file), 'utf8');
      for (const m of text.matchAll(/from '(\.\.?\/[\w/-]+)\.js'/g)) {
        visit(posix.normalize(posix.join(posix.dirname(file), `${m[1]}.ts`)));
      }
    };
    visit('index.ts');
    expect(reachable.has('render.ts')).toBe(false);
    expect(reachable.has('outcome.ts')).toBe(true);
    expect(reachable.has('outcome/config.ts')).toBe(true);
    expect(
      readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts') && !reachable.has(f.split(sep).join('/')))
        .sort(),
    ).toEqual(['date-adapter.ts', 'render.ts']);
    for (const file of reachable) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text, file).not.toMatch(/from ['"](node:|fs['"]|path['"]|@napi-rs\/canvas)/);
      expect(text, file).not.toMatch(/from ['"]\.\/render\.js['"]/);
      // chart.js and the annotation plugin are imported for their types only: the builders load no chart code.
      expect(text, file).not.toMatch(
        /^import (?!type )[^;]*from ['"](chart\.js|chartjs-plugin-annotation)['"]/m,
      );
    }
  });
});
