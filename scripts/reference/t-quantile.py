"""Reference values of Student's t quantile, qt(p, df), for packages/analytics/test/fixtures/t-quantile.json.

R is not installed where these fixtures were made, so they are computed independently of both R and the code
under test: with mpmath at 50 significant digits, as the root t of the exact tail probability
    P(T > t) = I_x(df/2, 1/2) / 2,  x = df / (df + t^2)   (Abramowitz & Stegun 26.7.1, 26.5.27)
using mpmath.betainc(regularized=True) and mpmath.findroot. df = inf uses the normal quantile
(-sqrt(2) * erfcinv(2p)). Each value is printed with 17 significant digits (round-trips a double).

Run from the repository root:  python3 scripts/reference/t-quantile.py > packages/analytics/test/fixtures/t-quantile.json
"""

import json

import mpmath as mp

mp.mp.dps = 50

P = ["0.5000001", "0.6", "0.75", "0.9", "0.95", "0.975", "0.99", "0.995", "0.999", "0.9999", "0.025", "0.005", "1e-10", "1e-300"]
DF = ["0.1", "0.5", "1", "1.5", "2", "3", "4", "5", "7.3", "9", "10", "29", "30", "100", "119", "1000", "100000", "10000000", "inf"]


def tail(t, df):
    x = df / (df + t * t)
    return mp.betainc(df / 2, mp.mpf(1) / 2, 0, x, regularized=True) / 2


def qt(p, df):
    p = mp.mpf(float(p))  # the double the code receives, e.g. 0.975 is 0.97499999999999997779...
    if p == mp.mpf(1) / 2:
        return mp.mpf(0)
    upper = p > mp.mpf(1) / 2
    q = 1 - p if upper else p
    if df == mp.inf:
        t = -mp.sqrt(2) * mp.erfinv(2 * q - 1)
    else:
        # Bracket t on a log scale, then bisect on ln t to 1e-30 relative (robust for heavy tails).
        lo, hi = mp.mpf(1), mp.mpf(1)
        while tail(hi, df) > q:
            hi *= 4
        while tail(lo, df) < q:
            lo /= 4
        a, b = mp.log(lo), mp.log(hi)
        while b - a > mp.mpf("1e-30"):
            m = (a + b) / 2
            if tail(mp.exp(m), df) > q:
                a = m
            else:
                b = m
        t = mp.exp((a + b) / 2)
    return t if upper else -t


rows = []
for df_s in DF:
    df = mp.inf if df_s == "inf" else mp.mpf(df_s)
    for p_s in P:
        t = qt(p_s, df)
        if abs(t) > mp.mpf("1e300"):
            continue  # beyond double range (e.g. p = 1e-300 with df < 1)
        rows.append({"p": float(mp.mpf(p_s)), "df": "Infinity" if df_s == "inf" else float(df), "qt": float(mp.nstr(t, 17, strip_zeros=False))})

print(json.dumps({
    "source": "mpmath 1.3.0 at 50 significant digits, scripts/reference/t-quantile.py (R's qt(p, df) computes the same quantity)",
    "values": rows,
}, indent=1))
