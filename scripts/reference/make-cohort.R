# make-cohort.R: SYNTHETIC test data for @kapkit/analytics. No real patient data.
#
# Writes, under packages/analytics/test/fixtures/:
#   cohort.csv            120 synthetic KAP patients, PHQ-9 and GAD-7, tidy long format with the header
#                         patient_id,instrument,day,score,first_dose_day (empty first_dose_day = no dose info)
#   km-ties.csv           small Kaplan-Meier inputs (time,status) for edge cases: tied times,
#   km-all-censored.csv   no event at all (median not reached),
#   km-flat-half.csv      a curve that sits exactly at 0.5 over an interval (R's midpoint rule),
#   km-flat-half-end.csv  a curve that sits at 0.5 until its last (censored) time,
#   km-to-zero.csv        a curve that reaches 0 (std.err Inf, CI NA in survfit),
#   lmm-tiny.csv          a tiny balanced data set for the linear mixed model (group,x,y),
#   lmm-singular.csv      a data set whose REML fit is singular (random-slope SD on the boundary 0).
#
# Deterministic: fixed RNG kinds and seed. Run from the repository root:
#   Rscript scripts/reference/make-cohort.R && Rscript scripts/reference/analytics-reference.R
#
# The cohort is built to exercise the definitions in docs/methods.md: pre-baseline assessments (day -10
# etc., so "baseline = last assessment on or before the first dose" matters), dose days after day 0,
# patients without dose information, a patient assessed only after the first dose, dropout, skipped visits,
# patients with only a baseline, baseline scores of 0, repeated assessments on one day, tied response
# times (visits fall on a weekly grid), and rows shuffled.

RNGkind(kind = "Mersenne-Twister", normal.kind = "Inversion", sample.kind = "Rejection")
set.seed(20260301)

out_dir <- file.path("packages", "analytics", "test", "fixtures")
if (!dir.exists(out_dir)) stop("run from the repository root (", out_dir, " not found)")

n_patients <- 120
ids <- sprintf("P%03d", seq_len(n_patients))

clamp_round <- function(x, hi) pmin(hi, pmax(0, round(x)))

# Special roles, fixed by index so the data set always contains them.
only_baseline <- c(7, 33, 71, 104) # a single assessment (per instrument)
baseline_zero <- c(12, 58, 95) # PHQ-9 baseline 0 (and GAD-7 0 for 12 and 95)
no_dose_info <- c(20, 66, 111) # first_dose_day missing
post_dose_only <- c(41) # first assessment after the first dose: baseline falls back to the first row
same_day_repeat <- c(15, 88) # two assessments on one follow-up day (sorted stably on file order)
baseline_repeat <- c(27) # two assessments on the baseline day
phq_only <- c(50, 118) # no GAD-7 at all

rows <- list()
add <- function(id, instrument, day, score, first_dose) {
  rows[[length(rows) + 1]] <<- data.frame(
    patient_id = id, instrument = instrument, day = day, score = score,
    first_dose_day = first_dose, stringsAsFactors = FALSE
  )
}

for (i in seq_len(n_patients)) {
  id <- ids[i]
  # First dose on day 0 for most; a few start a few days later.
  first_dose <- sample(c(0, 0, 0, 0, 2, 3, 7), 1)
  # Baseline 0 to 5 days before the first dose.
  base_day <- first_dose - sample(0:5, 1)
  # About one in five has an earlier screening assessment, 8 to 20 days before baseline.
  pre_day <- if (runif(1) < 0.2) base_day - sample(8:20, 1) else NA
  if (i %in% post_dose_only) {
    base_day <- first_dose + 2
    pre_day <- NA
  }

  # Visits: steps of 7, 14 or 21 days (so response times tie), occasionally shifted by a day or two.
  visit_days <- numeric(0)
  d <- base_day
  repeat {
    d <- d + sample(c(7, 14, 21), 1, prob = c(0.45, 0.4, 0.15)) + sample(c(0, 0, 0, 0, 1, 2, -1), 1)
    if (d > first_dose + 180) break
    visit_days <- c(visit_days, d)
  }
  # Dropout: exponential time to dropout, mean 220 days from baseline.
  dropout <- base_day + rexp(1, 1 / 220)
  visit_days <- visit_days[visit_days <= dropout]
  # Intermittent missingness: each visit skipped with probability 0.15.
  visit_days <- visit_days[runif(length(visit_days)) > 0.15]
  if (i %in% only_baseline) visit_days <- numeric(0)

  # Latent severity trajectory: baseline, heterogeneous slope (points/day), early drop, noise.
  phq_base <- clamp_round(rnorm(1, 16, 4.5), 27)
  gad_base <- clamp_round(0.65 * phq_base + rnorm(1, 1.5, 3), 21)
  if (i %in% baseline_zero) {
    phq_base <- 0
    if (i != 58) gad_base <- 0
  }
  slope <- rnorm(1, -0.045, 0.035)
  early <- rnorm(1, -3, 2.5)
  gad_ratio <- 0.75 + rnorm(1, 0, 0.1)
  traj <- function(t) early * (1 - exp(-t / 10)) + slope * t

  first_dose_out <- if (i %in% no_dose_info) NA else first_dose

  emit <- function(day, is_baseline) {
    t <- day - base_day
    if (is_baseline) {
      phq <- phq_base
      gad <- gad_base
    } else if (t < 0) {
      phq <- clamp_round(phq_base + rnorm(1, 0, 2.5), 27)
      gad <- clamp_round(gad_base + rnorm(1, 0, 2), 21)
    } else {
      phq <- clamp_round(phq_base + traj(t) + rnorm(1, 0, 2.5), 27)
      gad <- clamp_round(gad_base + gad_ratio * traj(t) + rnorm(1, 0, 2), 21)
    }
    if (phq_base == 0 && !is_baseline) phq <- clamp_round(abs(rnorm(1, 1, 1.5)), 27)
    add(id, "phq9", day, phq, first_dose_out)
    # GAD-7 is occasionally missing on its own (5%), and absent for some patients.
    if (!(i %in% phq_only) && (is_baseline || runif(1) > 0.05)) add(id, "gad7", day, gad, first_dose_out)
  }

  if (!is.na(pre_day)) emit(pre_day, FALSE)
  emit(base_day, TRUE)
  if (i %in% baseline_repeat) emit(base_day, FALSE)
  for (vd in visit_days) emit(vd, FALSE)
  if (i %in% same_day_repeat && length(visit_days) >= 2) emit(visit_days[2], FALSE)
}

cohort <- do.call(rbind, rows)
# Shuffle: the definitions must not depend on file order except for same-day ties.
cohort <- cohort[sample(nrow(cohort)), ]
rownames(cohort) <- NULL

write.csv(cohort, file.path(out_dir, "cohort.csv"), row.names = FALSE, quote = FALSE, na = "")
cat("cohort.csv:", nrow(cohort), "rows,", length(unique(cohort$patient_id)), "patients\n")

# ---- Edge-case inputs --------------------------------------------------------------------------------

write_small <- function(df, name) {
  write.csv(df, file.path(out_dir, name), row.names = FALSE, quote = FALSE, na = "")
}

# Tied event times, an event and a censoring at the same time, several events at one time.
write_small(data.frame(
  time = c(7, 7, 7, 14, 14, 14, 21, 28, 28, 35, 42, 42, 56, 56, 70),
  status = c(1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0)
), "km-ties.csv")

# No events: survival stays at 1, median and its CI not reached.
write_small(data.frame(time = c(14, 21, 21, 35, 60, 90), status = 0), "km-all-censored.csv")

# S(t) = 0.5 exactly on [14, 28): 3 events at 7 and 2 at 14 out of 10; R's quantile() takes the midpoint.
write_small(data.frame(
  time = c(7, 7, 7, 14, 14, 28, 28, 35, 42, 49),
  status = c(1, 1, 1, 1, 1, 1, 0, 1, 0, 1)
), "km-flat-half.csv")

# S(t) = 0.5 from 20 to the last (censored) time 40: quantile() and print() disagree here.
write_small(data.frame(
  time = c(7, 14, 20, 30, 40, 40),
  status = c(1, 1, 1, 0, 0, 0)
), "km-flat-half-end.csv")

# Everyone still at risk at the last time has the event: S reaches 0.
write_small(data.frame(
  time = c(3, 5, 5, 8, 10, 12, 12),
  status = c(1, 0, 1, 1, 0, 1, 1)
), "km-to-zero.csv")

# Tiny balanced LMM data: 6 groups x 4 occasions, x = 0, 14, 28, 42.
lmm_tiny <- expand.grid(x = c(0, 14, 28, 42), group = sprintf("g%d", 1:6))[, c("group", "x")]
g_int <- c(18, 14, 21, 12, 16, 19)
g_slope <- c(-0.20, -0.05, -0.25, 0.02, -0.15, -0.10)
e <- c(
  0.8, -1.1, 0.3, 0.6, -0.4, 1.2, -0.9, 0.1, 0.5, -0.7, 1.0, -0.3,
  -1.2, 0.4, 0.9, -0.2, 0.7, -0.6, -0.1, 1.1, -0.8, 0.2, 0.6, -1.0
)
gi <- as.integer(sub("g", "", lmm_tiny$group))
lmm_tiny$y <- round(g_int[gi] + g_slope[gi] * lmm_tiny$x + e, 1)
write_small(lmm_tiny, "lmm-tiny.csv")

# Singular LMM data: slopes identical across groups, so the random-slope variance is estimated as 0.
lmm_sing <- expand.grid(x = c(0, 7, 14, 21, 28), group = sprintf("s%d", 1:5))[, c("group", "x")]
si <- as.integer(sub("s", "", lmm_sing$group))
e2 <- c(
  1.3, -0.7, 0.2, -1.5, 0.9, 0.4, 1.1, -0.8, -0.2, 0.6, -1.0, 0.5, 0.3, 0.8, -0.6,
  0.2, -0.3, 1.4, -1.1, 0.1, -0.5, 0.9, -0.4, 0.7, -1.2
)
lmm_sing$y <- round(c(15, 10, 20, 12, 17)[si] - 0.1 * lmm_sing$x + e2, 1)
write_small(lmm_sing, "lmm-singular.csv")
cat("edge-case inputs written\n")
