/**
 * Quantiles of the standard normal distribution by Wichura's algorithm AS 241 (PPND16): the central rational
 * approximation for |p − 0.5| ≤ 0.425 and the two tail approximations in r = √(−log(tail probability)).
 */
// Wichura 1988, Applied Statistics 37:477 (AS 241), as in R's nmath/qnorm.c; the coefficients are qnorm.c's,
// written as the shortest decimals of the same doubles.

/** q · A(r) / B(r) with r = 0.180625 − q², for |q| ≤ 0.425 (q = p − 0.5). */
function central(q: number): number {
  const r = 0.180625 - q * q;
  return (
    (q *
      (((((((r * 2509.0809287301227 + 33430.57558358813) * r + 67265.7709270087) * r + 45921.95393154987) *
        r +
        13731.69376550946) *
        r +
        1971.5909503065513) *
        r +
        133.14166789178438) *
        r +
        3.3871328727963665)) /
    (((((((r * 5226.495278852546 + 28729.085735721943) * r + 39307.89580009271) * r + 21213.794301586597) *
      r +
      5394.196021424751) *
      r +
      687.1870074920579) *
      r +
      42.31333070160091) *
      r +
      1)
  );
}

/** The positive quantile of a tail probability t < 0.075 (|p − 0.5| > 0.425), from r = √(−log t). */
function tail(t: number): number {
  let r = Math.sqrt(-Math.log(t));
  if (r <= 5) {
    r -= 1.6;
    return (
      (((((((r * 0.0007745450142783414 + 0.022723844989269184) * r + 0.2417807251774506) * r +
        1.2704582524523684) *
        r +
        3.6478483247632045) *
        r +
        5.769497221460691) *
        r +
        4.630337846156546) *
        r +
        1.4234371107496835) /
      (((((((r * 1.0507500716444169e-9 + 0.0005475938084995345) * r + 0.015198666563616457) * r +
        0.14810397642748008) *
        r +
        0.6897673349851) *
        r +
        1.6763848301838038) *
        r +
        2.053191626637759) *
        r +
        1)
    );
  }
  r -= 5;
  return (
    (((((((r * 2.0103343992922881e-7 + 0.000027115555687434876) * r + 0.0012426609473880784) * r +
      0.026532189526576124) *
      r +
      0.29656057182850487) *
      r +
      1.7848265399172913) *
      r +
      5.463784911164114) *
      r +
      6.657904643501103) /
    (((((((r * 2.0442631033899397e-15 + 1.421511758316446e-7) * r + 0.000018463183175100548) * r +
      0.0007868691311456133) *
      r +
      0.014875361290850615) *
      r +
      0.1369298809227358) *
      r +
      0.599832206555888) *
      r +
      1)
  );
}

/**
 * Quantile of the standard normal distribution (as R's `qnorm(p)`), by Wichura's algorithm AS 241
 * (PPND16): within a few units in the last place of R (`normalQuantile(0.975)` = 1.9599639845400536,
 * R 1.959963984540054), since Math.log and the C library's log may round differently.
 *
 * @example
 * normalQuantile(0.975); // 1.959963984540…
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) return central(q);
  const val = tail(q < 0 ? p : 1 - p);
  return q < 0 ? -val : val;
}

/**
 * z with P(Z > z) = q, for 0 < q ≤ 0.5, accurate to about 1e-16 even where 1 − q rounds to 1 (the tail
 * probability goes into the logarithm as it is). A starting point for the t quantile, and the t quantile itself at
 * df = Infinity.
 */
export function normalQuantileUpper(q: number): number {
  const r0 = 0.5 - q;
  if (Math.abs(r0) <= 0.425) return central(r0);
  return tail(q);
}
