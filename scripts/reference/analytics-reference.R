# analytics-reference.R: reference values for @kapkit/analytics, computed in plain R (+ survival, lme4).
#
# Reads the SYNTHETIC inputs written by make-cohort.R and writes
#   packages/analytics/test/fixtures/reference.json
# which the vitest suites compare against. CI has no R: the JSON is committed. Run from the repository root:
#   Rscript scripts/reference/make-cohort.R && Rscript scripts/reference/analytics-reference.R
#
# The definitions are kapkit's (docs/methods.md, "Per-patient and cohort metrics"); they are written out
# here in plain R on purpose, so the TypeScript is checked against an independent implementation.
#
# JSON conventions: numbers at full printed precision (digits = NA: 15 significant digits); R's NA is
# null; NaN, Inf and -Inf are the strings "NaN", "Inf", "-Inf".

suppressPackageStartupMessages({
  library(survival)
  library(lme4)
  library(jsonlite)
})

fix_dir <- file.path("packages", "analytics", "test", "fixtures")
if (!dir.exists(fix_dir)) stop("run from the repository root (", fix_dir, " not found)")

# ---- helpers --------------------------------------------------------------------------------------------

# A numeric scalar for JSON: NA -> null (via na = "null"), non-finite -> string.
num <- function(x) {
  if (length(x) != 1) stop("num() takes a scalar")
  if (is.logical(x) && is.na(x)) return(NA)
  x <- as.numeric(x)
  if (is.nan(x)) return("NaN")
  if (is.na(x)) return(NA)
  if (is.infinite(x)) return(if (x > 0) "Inf" else "-Inf")
  x
}
nums <- function(v) lapply(as.numeric(v), num) # always a JSON array, even of length 1
lgl <- function(x) if (is.na(x)) NA else isTRUE(x)

# Wilson score interval, no continuity correction (Wilson 1927; Newcombe 1998 method 3).
wilson <- function(x, n, conf = 0.95) {
  if (n == 0) return(c(NA_real_, NA_real_))
  z <- qnorm(1 - (1 - conf) / 2)
  p <- x / n
  centre <- (p + z^2 / (2 * n)) / (1 + z^2 / n)
  half <- (z / (1 + z^2 / n)) * sqrt(p * (1 - p) / n + z^2 / (4 * n^2))
  c(centre - half, centre + half)
}
# Cross-check against prop.test(correct = FALSE), which gives the same interval.
local({
  pt <- prop.test(37, 101, correct = FALSE)$conf.int
  w <- wilson(37, 101)
  if (max(abs(pt - w)) > 1e-12) stop("wilson() disagrees with prop.test: ", paste(pt - w, collapse = " "))
})
proportion <- function(x, n) {
  ci <- wilson(x, n)
  list(count = x, n = n, proportion = num(if (n > 0) x / n else NA), lower = num(ci[1]), upper = num(ci[2]))
}

# ---- instruments ----------------------------------------------------------------------------------------

constants <- list(
  # r: test-retest reliability for Jacobson & Truax; fixed: NHS Talking Therapies reliable-change points;
  # M0/s0: general-population norms (PHQ-9 Kocalevent 2013; GAD-7 Lowe 2008).
  phq9 = list(r = 0.89, fixed = 6, M0 = 2.91, s0 = 3.52),
  gad7 = list(r = 0.92, fixed = 4, M0 = 2.95, s0 = 3.41)
)
bin_edges <- c(0, 14, 28, 42, 56, 84, 112, 168)

cohort <- read.csv(file.path(fix_dir, "cohort.csv"), stringsAsFactors = FALSE)
cohort$file_row <- seq_len(nrow(cohort))

# ---- per patient ----------------------------------------------------------------------------------------

patient_summary <- function(d) {
  d <- d[order(d$day, d$file_row), ] # sort by day, stable on file order
  first_dose <- d$first_dose_day[1]
  on_or_before <- if (is.na(first_dose)) integer(0) else which(d$day <= first_dose)
  b <- if (length(on_or_before) > 0) max(on_or_before) else 1L
  baseline_day <- d$day[b]
  baseline <- d$score[b]
  fu <- d[d$day > baseline_day, ]
  evaluable <- nrow(fu) > 0
  latest_day <- if (evaluable) fu$day[nrow(fu)] else NA
  latest <- if (evaluable) fu$score[nrow(fu)] else NA
  change <- latest - baseline
  pct <- if (evaluable && baseline != 0) 100 * change / baseline else NA
  response <- evaluable && baseline > 0 && latest <= 0.5 * baseline
  remission <- evaluable && latest < 5
  remission_strict <- remission && baseline >= 10
  resp_rows <- if (baseline > 0) fu[fu$score <= 0.5 * baseline, ] else fu[0, ]
  first_response_day <- if (nrow(resp_rows) > 0) min(resp_rows$day - baseline_day) else NA
  # OLS of score on day over all rows (explicit formulas; cross-checked against lm() below).
  n <- nrow(d)
  sxx <- sum((d$day - mean(d$day))^2)
  if (length(unique(d$day)) >= 2) {
    slope <- sum((d$day - mean(d$day)) * (d$score - mean(d$score))) / sxx
    intercept <- mean(d$score) - slope * mean(d$day)
    slope_se <- if (n > 2) sqrt(sum((d$score - intercept - slope * d$day)^2) / (n - 2) / sxx) else NA
  } else {
    slope <- NA
    slope_se <- NA
  }
  list(
    patient_id = d$patient_id[1], nRows = n, firstDose = first_dose,
    baselineDay = baseline_day, baselineScore = baseline, evaluable = evaluable,
    latestDay = latest_day, latestScore = latest, change = change, pctChange = pct,
    improvement = baseline - latest, response = response, remission = remission,
    remissionStrict = remission_strict, firstResponseDay = first_response_day,
    olsSlope = slope, olsSlopeSE = slope_se
  )
}

check_ols <- function(d, s) {
  if (is.na(s$olsSlope)) return(invisible())
  fit <- lm(score ~ day, data = d)
  cf <- coef(summary(fit))
  if (abs(cf[2, 1] - s$olsSlope) > 1e-9) stop("OLS slope mismatch for ", s$patient_id)
  if (!is.na(s$olsSlopeSE) && abs(cf[2, 2] - s$olsSlopeSE) > 1e-9) stop("OLS SE mismatch ", s$patient_id)
}

# ---- Kaplan-Meier ---------------------------------------------------------------------------------------

km_reference <- function(time, status, conf.int = 0.95) {
  fit <- survfit(Surv(time, status) ~ 1, conf.type = "log", conf.int = conf.int)
  sm <- summary(fit, censored = TRUE)
  if (max(abs(sm$surv - fit$surv)) > 0) stop("summary/fit mismatch")
  q <- quantile(fit, 0.5)
  tab <- summary(fit)$table
  curve <- lapply(seq_along(fit$time), function(i) {
    list(
      time = num(fit$time[i]), nRisk = num(fit$n.risk[i]), nEvent = num(fit$n.event[i]),
      nCensor = num(fit$n.censor[i]), survival = num(fit$surv[i]),
      # fit$std.err: standard error of the cumulative hazard = of log S (Greenwood on the log scale).
      stdErr = num(fit$std.err[i]),
      # summary(fit)$std.err = S * fit$std.err: standard error of S itself.
      stdErrSurvival = num(sm$std.err[i]),
      lower = num(fit$lower[i]), upper = num(fit$upper[i])
    )
  })
  list(
    call = "survfit(Surv(time, status) ~ 1, conf.type = \"log\")",
    confLevel = conf.int,
    input = lapply(seq_along(time), function(i) list(time = time[i], event = status[i] == 1)),
    n = fit$n, events = sum(fit$n.event), curve = curve,
    median = num(unname(q$quantile)), medianLower = num(unname(q$lower)), medianUpper = num(unname(q$upper)),
    # print(fit) / summary(fit)$table use survmean()'s own rule, which differs from quantile() when the
    # curve ends flat at exactly 0.5: both are recorded.
    printTable = list(
      median = num(tab[["median"]]), lower = num(tab[[paste0(conf.int, "LCL")]]),
      upper = num(tab[[paste0(conf.int, "UCL")]])
    )
  )
}

# ---- linear mixed model ---------------------------------------------------------------------------------

# lme4's default optimiser (nloptwrap/BOBYQA with its default tolerances) stops short of the REML optimum
# on the cohort, where x is in days (0-180) and the random-slope factor is ~0.01: REMLcrit 5473.08 instead
# of 5461.55 on PHQ-9, with "Model failed to converge" warnings. The reference is therefore the best of three
# tightly-converged refits of the same model (BOBYQA, Nelder-Mead, nloptwrap with tight tolerances), which
# agree to ~1e-9 in REMLcrit; a fit on x/30 (mapped back) is a further check. lme4's default fit is kept
# under lme4Default for comparison.
fit_summary <- function(fit) {
  vc <- as.data.frame(VarCorr(fit))
  sd_int <- vc$sdcor[vc$grp == "group" & vc$var1 == "(Intercept)" & is.na(vc$var2)]
  sd_slope <- vc$sdcor[vc$grp == "group" & vc$var1 == "x" & is.na(vc$var2)]
  corr <- vc$sdcor[vc$grp == "group" & !is.na(vc$var2)]
  fe <- fixef(fit)
  se <- sqrt(diag(as.matrix(vcov(fit))))
  reml <- REMLcrit(fit)
  if (abs(reml - as.numeric(-2 * logLik(fit))) > 1e-8) stop("REMLcrit != -2 logLik")
  list(
    intercept = num(fe[[1]]), slope = num(fe[[2]]),
    interceptSE = num(se[[1]]), slopeSE = num(se[[2]]),
    sdIntercept = num(sd_int), sdSlope = num(sd_slope), corr = num(corr),
    sdResidual = num(sigma(fit)), remlCriterion = num(reml),
    theta = nums(getME(fit, "theta")), singular = isSingular(fit)
  )
}
quiet_fit <- function(expr) {
  warns <- character(0)
  fit <- withCallingHandlers(suppressMessages(expr), warning = function(w) {
    warns <<- c(warns, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(fit = fit, warnings = warns)
}

lmm_reference <- function(group, x, y) {
  dat <- data.frame(group = factor(group), x = x, y = y)
  default <- quiet_fit(lmer(y ~ x + (x | group), data = dat, REML = TRUE))
  tight <- list(
    bobyqa = quiet_fit(lmer(y ~ x + (x | group), data = dat, REML = TRUE, control = lmerControl(
      optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5)
    )))$fit,
    Nelder_Mead = quiet_fit(lmer(y ~ x + (x | group), data = dat, REML = TRUE, control = lmerControl(
      optimizer = "Nelder_Mead", optCtrl = list(FtolAbs = 1e-14, FtolRel = 1e-15, XtolRel = 1e-12, maxfun = 1e5)
    )))$fit,
    nloptwrap = quiet_fit(lmer(y ~ x + (x | group), data = dat, REML = TRUE, control = lmerControl(
      optCtrl = list(ftol_abs = 1e-14, ftol_rel = 1e-15, xtol_abs = 1e-12, xtol_rel = 1e-12, maxeval = 1e5)
    )))$fit
  )
  crits <- vapply(tight, REMLcrit, numeric(1))
  best <- names(which.min(crits))
  # Check: the same model on x / 30. REMLcrit shifts by 2 log 30 (log|X'V^-1 X| with X rescaled); theta of
  # the slope scales by 30.
  dat$x30 <- dat$x / 30
  f30 <- quiet_fit(lmer(y ~ x30 + (x30 | group), data = dat, REML = TRUE, control = lmerControl(
    optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5)
  )))$fit
  scaled_crit <- REMLcrit(f30) + 2 * log(30)
  if (abs(scaled_crit - min(crits)) > 1e-6) stop("rescaled refit disagrees: ", scaled_crit - min(crits))
  c(
    list(
      call = "lmer(y ~ x + (x | group), REML = TRUE), refitted with tight optimiser tolerances",
      optimizer = best,
      nObs = nrow(dat), nGroups = nlevels(dat$group)
    ),
    fit_summary(tight[[best]]),
    list(
      tightRefits = lapply(tight, function(f) list(remlCriterion = num(REMLcrit(f)), theta = nums(getME(f, "theta")))),
      rescaledRefitRemlCriterion = num(scaled_crit),
      lme4Default = c(
        list(call = "lmer(y ~ x + (x | group), REML = TRUE)", optimizer = default$fit@optinfo$optimizer),
        fit_summary(default$fit),
        list(warnings = as.list(default$warnings))
      )
    )
  )
}

# ---- per instrument -------------------------------------------------------------------------------------

instrument_reference <- function(inst) {
  k <- constants[[inst]]
  d <- cohort[cohort$instrument == inst, ]
  by_patient <- split(d, d$patient_id)
  pats <- lapply(by_patient, patient_summary)
  for (p in names(by_patient)) check_ols(by_patient[[p]], pats[[p]])
  ps <- do.call(rbind, lapply(pats, as.data.frame))
  ps <- ps[order(ps$patient_id), ]
  ev <- ps[ps$evaluable, ]
  n_ev <- nrow(ev)

  # Reliable change (Jacobson & Truax 1991).
  s1 <- sd(ev$baselineScore)
  sdiff <- sqrt(2) * s1 * sqrt(1 - k$r)
  ps$rci <- ifelse(ps$evaluable, ps$change / sdiff, NA)
  ps$jtImproved <- ps$evaluable & ps$rci < -1.96
  ps$jtDeteriorated <- ps$evaluable & ps$rci > 1.96
  ps$fixedImproved <- ps$evaluable & ps$change <= -k$fixed
  ps$fixedDeteriorated <- ps$evaluable & ps$change >= k$fixed
  # Clinically significant change (Jacobson & Truax 1991).
  m1 <- mean(ev$baselineScore)
  a <- m1 - 2 * s1
  b <- k$M0 + 2 * k$s0
  c_cut <- (k$s0 * m1 + s1 * k$M0) / (k$s0 + s1)
  ps$recovered <- ps$jtImproved & ps$evaluable & ps$latestScore < c_cut
  ps[!ps$evaluable, c("jtImproved", "jtDeteriorated", "fixedImproved", "fixedDeteriorated", "recovered")] <- FALSE
  ev <- ps[ps$evaluable, ]

  resp_den <- ev[ev$baselineScore > 0, ]
  imp <- ev$improvement
  d_z <- mean(imp) / sd(imp)
  d_av <- mean(imp) / ((sd(ev$baselineScore) + sd(ev$latestScore)) / 2)
  g_av <- d_av * (1 - 3 / (4 * (n_ev - 1) - 1))
  tt <- t.test(ev$change)

  # Trajectory by bins of days since baseline.
  d$baselineDay <- ps$baselineDay[match(d$patient_id, ps$patient_id)]
  d$t <- d$day - d$baselineDay
  dd <- d[d$t >= 0, ]
  dd$bin <- findInterval(dd$t, bin_edges) # 1..8; bin k = [edge_k, edge_k+1), last = [168, Inf)
  trajectory <- lapply(seq_along(bin_edges), function(k_bin) {
    rows <- dd[dd$bin == k_bin, ]
    pm <- if (nrow(rows) > 0) tapply(rows$score, rows$patient_id, mean) else numeric(0)
    n <- length(pm)
    m <- if (n > 0) mean(pm) else NA
    half <- if (n >= 2) qt(0.975, n - 1) * sd(pm) / sqrt(n) else NA
    list(
      from = bin_edges[k_bin], to = num(if (k_bin < length(bin_edges)) bin_edges[k_bin + 1] else Inf),
      n = n, mean = num(m), lower = num(m - half), upper = num(m + half)
    )
  })

  # Kaplan-Meier time to first response: evaluable patients with baseline > 0.
  kmd <- ev[ev$baselineScore > 0, ]
  km_time <- ifelse(!is.na(kmd$firstResponseDay), kmd$firstResponseDay, kmd$latestDay - kmd$baselineDay)
  km_status <- as.integer(!is.na(kmd$firstResponseDay))
  km <- km_reference(km_time, km_status)
  km$input <- lapply(seq_len(nrow(kmd)), function(i) {
    list(patient_id = kmd$patient_id[i], time = km_time[i], event = km_status[i] == 1)
  })

  # Linear mixed model on rows with day since baseline >= 0.
  lmm <- lmm_reference(dd$patient_id, dd$t, dd$score)

  patients <- lapply(seq_len(nrow(ps)), function(i) {
    r <- ps[i, ]
    list(
      patient_id = r$patient_id, nRows = r$nRows, firstDose = num(r$firstDose),
      baselineDay = r$baselineDay, baselineScore = r$baselineScore, evaluable = r$evaluable,
      latestDay = num(r$latestDay), latestScore = num(r$latestScore), change = num(r$change),
      pctChange = num(r$pctChange), improvement = num(r$improvement), response = r$response,
      remission = r$remission, remissionStrict = r$remissionStrict,
      firstResponseDay = num(r$firstResponseDay), rci = num(r$rci),
      jtImproved = r$jtImproved, jtDeteriorated = r$jtDeteriorated,
      fixedImproved = r$fixedImproved, fixedDeteriorated = r$fixedDeteriorated,
      recovered = r$recovered, olsSlope = num(r$olsSlope), olsSlopeSE = num(r$olsSlopeSE)
    )
  })

  list(
    constants = list(r = k$r, fixedPoints = k$fixed, M0 = k$M0, s0 = k$s0, z = 1.96, binEdges = bin_edges),
    patients = patients,
    cohort = list(
      nPatients = nrow(ps), nEvaluable = n_ev,
      responders = proportion(sum(resp_den$response), nrow(resp_den)),
      remitters = proportion(sum(ev$remission), n_ev),
      remittersStrict = proportion(sum(ev$remissionStrict), n_ev),
      jtImproved = proportion(sum(ev$jtImproved), n_ev),
      jtDeteriorated = proportion(sum(ev$jtDeteriorated), n_ev),
      fixedImproved = proportion(sum(ev$fixedImproved), n_ev),
      fixedDeteriorated = proportion(sum(ev$fixedDeteriorated), n_ev),
      recovered = proportion(sum(ev$recovered), n_ev),
      baseline = list(mean = num(mean(ev$baselineScore)), sd = num(sd(ev$baselineScore))),
      latest = list(mean = num(mean(ev$latestScore)), sd = num(sd(ev$latestScore))),
      change = list(
        mean = num(unname(tt$estimate)), lower = num(tt$conf.int[1]), upper = num(tt$conf.int[2]),
        df = num(unname(tt$parameter))
      ),
      effectSizes = list(n = n_ev, dz = num(d_z), dav = num(d_av), gav = num(g_av)),
      reliableChange = list(s1 = num(s1), r = k$r, sdiff = num(sdiff), pointsNeeded = num(1.96 * sdiff)),
      clinicalSignificance = list(
        M1 = num(m1), s1 = num(s1), M0 = k$M0, s0 = k$s0, a = num(a), b = num(b), c = num(c_cut)
      )
    ),
    trajectory = trajectory,
    kaplanMeier = km,
    mixedModel = lmm
  )
}

# ---- edge cases -----------------------------------------------------------------------------------------

km_file <- function(name, conf.int = 0.95) {
  d <- read.csv(file.path(fix_dir, name))
  c(list(file = name), km_reference(d$time, d$status, conf.int))
}
lmm_file <- function(name) {
  d <- read.csv(file.path(fix_dir, name), stringsAsFactors = FALSE)
  c(list(file = name), lmm_reference(d$group, d$x, d$y))
}

reference <- list(
  meta = list(
    note = "SYNTHETIC data; reference values for @kapkit/analytics tests. Do not edit by hand.",
    generatedBy = "Rscript scripts/reference/make-cohort.R && Rscript scripts/reference/analytics-reference.R",
    R = R.version.string,
    packages = list(
      survival = as.character(packageVersion("survival")),
      lme4 = as.character(packageVersion("lme4")),
      Matrix = as.character(packageVersion("Matrix")),
      jsonlite = as.character(packageVersion("jsonlite"))
    ),
    conventions = paste(
      "NA is null; NaN/Inf are strings. kaplanMeier.curve[].stdErr is survfit's fit$std.err, the",
      "standard error of the cumulative hazard (of log S); stdErrSurvival = summary(fit)$std.err = S * stdErr."
    ),
    qnorm = lapply(c(1e-300, 1e-10, 0.01, 0.3, 0.5, 0.95, 0.975, 0.995, 1 - 1e-12), function(p) {
      list(p = p, q = qnorm(p))
    }),
    wilsonCheck = list(x = 37, n = 101, prop.test = nums(prop.test(37, 101, correct = FALSE)$conf.int))
  ),
  instruments = list(phq9 = instrument_reference("phq9"), gad7 = instrument_reference("gad7")),
  edgeCases = list(
    kmTies = km_file("km-ties.csv"),
    kmTiesConf90 = km_file("km-ties.csv", conf.int = 0.9),
    kmAllCensored = km_file("km-all-censored.csv"),
    kmFlatHalf = km_file("km-flat-half.csv"),
    kmFlatHalfEnd = km_file("km-flat-half-end.csv"),
    kmToZero = km_file("km-to-zero.csv"),
    lmmTiny = lmm_file("lmm-tiny.csv"),
    lmmSingular = lmm_file("lmm-singular.csv")
  )
)

write_json(reference, file.path(fix_dir, "reference.json"), digits = NA, auto_unbox = TRUE, na = "null",
  pretty = TRUE)
cat("reference.json written\n")
