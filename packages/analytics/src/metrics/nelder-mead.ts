/** Derivative-free minimisation for the mixed model's profiled REML criterion. */

/** The best point found by {@link minimise}. */
interface Minimum {
  readonly x: readonly number[];
  readonly value: number;
  readonly iterations: number;
  readonly evaluations: number;
  readonly converged: boolean;
}

/**
 * Nelder–Mead simplex minimisation with restarts: each run stops when the simplex's spread in f and in x is
 * below tight tolerances; a fresh simplex is then built around the best point, until a restart no longer
 * improves f by more than 1e-10.
 */
// Nelder & Mead 1965, Comput J 7:308; restarts against stagnation: Kelley 1999, SIAM J Optim 10:43
export function minimise(f: (x: readonly number[]) => number, start: readonly number[]): Minimum {
  let x = [...start];
  let value = f(x);
  let iterations = 0;
  let evaluations = 1;
  for (let run = 0; run < 10; run++) {
    const r = nelderMead(f, x, value);
    iterations += r.iterations;
    evaluations += r.evaluations;
    const improvement = value - r.value;
    x = r.x;
    value = r.value;
    // Converged: a restart from the best point, itself stopped by the tolerances, found nothing better.
    if (run > 0 && improvement <= 1e-10 && r.converged) {
      return { x, value, iterations, evaluations, converged: true };
    }
  }
  return { x, value, iterations, evaluations, converged: false };
}

function nelderMead(
  f: (x: readonly number[]) => number,
  start: readonly number[],
  startValue: number,
): { x: number[]; value: number; iterations: number; evaluations: number; converged: boolean } {
  const dim = start.length;
  const maxIterations = 1000 * dim;
  const fTol = 1e-11;
  const xTol = 1e-10;
  const simplex: number[][] = [[...start]];
  const values: number[] = [startValue];
  let evaluations = 0;
  for (let j = 0; j < dim; j++) {
    const v = [...start];
    v[j] = v[j]! + (Math.abs(v[j]!) > 1e-3 ? 0.1 * Math.abs(v[j]!) : 0.05);
    simplex.push(v);
    values.push(f(v));
    evaluations++;
  }
  const order = simplex.map((_, i) => i);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    order.sort((a, b) => values[a]! - values[b]!);
    const best = order[0]!;
    const worst = order[dim]!;
    const second = order[dim - 1]!;
    let fSpread = 0;
    let xSpread = 0;
    for (let i = 1; i <= dim; i++) {
      const k = order[i]!;
      fSpread = Math.max(fSpread, Math.abs(values[k]! - values[best]!));
      for (let j = 0; j < dim; j++) {
        xSpread = Math.max(xSpread, Math.abs(simplex[k]![j]! - simplex[best]![j]!));
      }
    }
    if (fSpread <= fTol * Math.max(1, Math.abs(values[best]!)) && xSpread <= xTol) {
      converged = true;
      break;
    }
    iterations++;
    const centroid = new Array<number>(dim).fill(0);
    for (let i = 0; i < dim; i++) {
      const k = order[i]!;
      for (let j = 0; j < dim; j++) centroid[j]! += simplex[k]![j]! / dim;
    }
    const at = (t: number): number[] => centroid.map((c, j) => c + t * (simplex[worst]![j]! - c));
    const reflected = at(-1);
    const fr = f(reflected);
    evaluations++;
    if (fr < values[best]!) {
      const expanded = at(-2);
      const fe = f(expanded);
      evaluations++;
      if (fe < fr) {
        simplex[worst] = expanded;
        values[worst] = fe;
      } else {
        simplex[worst] = reflected;
        values[worst] = fr;
      }
      continue;
    }
    if (fr < values[second]!) {
      simplex[worst] = reflected;
      values[worst] = fr;
      continue;
    }
    // Contraction: outside if the reflection improved on the worst point, inside otherwise.
    const outside = fr < values[worst]!;
    const contracted = at(outside ? -0.5 : 0.5);
    const fc = f(contracted);
    evaluations++;
    if (outside ? fc <= fr : fc < values[worst]!) {
      simplex[worst] = contracted;
      values[worst] = fc;
      continue;
    }
    // Shrink towards the best point.
    for (let i = 1; i <= dim; i++) {
      const k = order[i]!;
      simplex[k] = simplex[k]!.map((v, j) => simplex[best]![j]! + 0.5 * (v - simplex[best]![j]!));
      values[k] = f(simplex[k]!);
      evaluations++;
    }
  }
  order.sort((a, b) => values[a]! - values[b]!);
  const b = order[0]!;
  return { x: [...simplex[b]!], value: values[b]!, iterations, evaluations, converged };
}
