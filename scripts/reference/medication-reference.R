# Reference for @kapkit/analytics byMedicationClass: a synthetic cohort with a known difference in PHQ-9
# change between patients with and without a concurrent benzodiazepine, and the outcomes of each group
# computed in R. All data synthetic. Run from the repository root:
#   Rscript scripts/reference/medication-reference.R
library(jsonlite)
set.seed(20261207)
n <- 90
benzo <- rbinom(n, 1, 0.35)
baseline <- sample(10:24, n, replace = TRUE)
# Known difference: a smaller expected improvement with a benzodiazepine (Andrashko et al. 2020 direction).
expected <- ifelse(benzo == 1, 0.75, 0.45) * baseline
latest <- pmin(27, pmax(0, round(expected + rnorm(n, 0, 3))))
ids <- sprintf("M%03d", seq_len(n))
cohort <- data.frame(
  patient_id = rep(ids, each = 2),
  instrument = "phq9",
  day = rep(c(0, 56), n),
  score = as.vector(rbind(baseline, latest)),
  benzodiazepine = rep(benzo, each = 2)
)
dir <- "packages/analytics/test/fixtures"
write.csv(cohort, file.path(dir, "medication-cohort.csv"), row.names = FALSE, quote = FALSE)

change <- latest - baseline
response <- latest <= 0.5 * baseline
remission <- latest < 5
grp <- function(k) {
  sel <- benzo == k
  tt <- t.test(change[sel])
  list(
    patients = sum(sel),
    responders = sum(response[sel]),
    remitters = sum(remission[sel]),
    mean = mean(change[sel]),
    sd = sd(change[sel]),
    lower = tt$conf.int[1],
    upper = tt$conf.int[2]
  )
}
w <- t.test(change[benzo == 1], change[benzo == 0])  # Welch (var.equal = FALSE is the default)
ref <- list(
  source = "R t.test (Welch) on packages/analytics/test/fixtures/medication-cohort.csv; scripts/reference/medication-reference.R",
  with = grp(1),
  without = grp(0),
  difference = list(
    estimate = unname(w$estimate[1] - w$estimate[2]),
    lower = w$conf.int[1],
    upper = w$conf.int[2],
    df = unname(w$parameter)
  )
)
write(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(dir, "medication-reference.json"))
