-- kapkit cohort figures in SQL, over the Parquet export (`kapkit export --format parquet [--deidentify]`).
--
-- Computes, per instrument, what `kapkit analyze --json` reports as patients, evaluable, baseline and latest
-- mean and SD, responders, remitters and Jacobson–Truax reliable change (improved / deteriorated), with the same
-- definitions (docs/methods.md):
--   * unit of analysis: the patient; a patient with several episodes counts once per episode;
--   * only scored assessments (total not null); voided ones are not in the export unless --include-voided;
--   * baseline: the last assessment on or before the first dose (days since the episode opened); without a dose,
--     or with none before it, the first assessment; ties on the same day keep the export's row order;
--   * latest: the last assessment after the baseline day; evaluable = has one;
--   * response: baseline > 0 and latest <= response_fraction * baseline (measures where higher is worse);
--   * remission: latest < remission_below;
--   * reliable change: RCI = (latest - baseline) / (sqrt(2) * SD1 * sqrt(1 - r)), SD1 = sample SD of the
--     evaluable baselines, |RCI| > 1.96 in the better (improved) or worse (deteriorated) direction.
-- The parameters are those of the built-in definitions (phq9, gad7); add a row to `params` for other instruments.
--
-- Run it in the export directory:  cd export-dir && duckdb < path/to/duckdb.sql
-- or point DuckDB at it first:     SET file_search_path = 'export-dir';
-- Tested in CI against `kapkit analyze --json` on an exported demo cohort (tests/test/duckdb-recipe.test.ts).
--
-- Spark SQL: read the tables with parquet.`<dir>/assessments.parquet` (and episodes.parquet); replace
-- file_row_number by the reader's row index (`_metadata.row_index`, Spark 3.5+) or another column that keeps
-- the export's row order; `any_value` is `first` before Spark 3.4; stddev_samp, max_by and FILTER (WHERE …)
-- are the same.

WITH params (instrument, higher_is_worse, response_fraction, remission_below, reliability) AS (
  VALUES ('phq9', true, 0.5, 5, 0.89), ('gad7', true, 0.5, 5, 0.92)
),
episodes AS (
  SELECT
    episode_id,
    patient_id,
    first_dose_day,
    count(*) OVER (PARTITION BY patient_id) AS episodes_of_patient
  FROM read_parquet('episodes.parquet')
),
scored AS (
  SELECT
    CASE WHEN e.episodes_of_patient > 1 THEN a.patient_id || '/' || a.episode_id ELSE a.patient_id END AS unit,
    a.instrument,
    a.day,
    a.total AS score,
    e.first_dose_day,
    a.file_row_number AS seq
  FROM read_parquet('assessments.parquet', file_row_number = true) AS a
  JOIN episodes AS e ON e.episode_id = a.episode_id
  WHERE a.total IS NOT NULL
),
ranked AS (
  SELECT *, row_number() OVER (PARTITION BY unit, instrument ORDER BY day, seq) AS k
  FROM scored
),
baseline_row AS (
  SELECT
    unit,
    instrument,
    coalesce(max(k) FILTER (WHERE first_dose_day IS NOT NULL AND day <= first_dose_day), 1) AS base_k
  FROM ranked
  GROUP BY unit, instrument
),
per_unit AS (
  SELECT r.unit, r.instrument, r.score AS baseline, r.day AS baseline_day
  FROM ranked AS r
  JOIN baseline_row AS b ON b.unit = r.unit AND b.instrument = r.instrument AND b.base_k = r.k
),
evaluable AS (
  SELECT p.unit, p.instrument, p.baseline, max_by(r.score, r.k) AS latest
  FROM per_unit AS p
  JOIN ranked AS r ON r.unit = p.unit AND r.instrument = p.instrument AND r.day > p.baseline_day
  GROUP BY p.unit, p.instrument, p.baseline
),
cohort AS (
  SELECT
    instrument,
    count(*) AS evaluable,
    avg(baseline) AS baseline_mean,
    stddev_samp(baseline) AS baseline_sd,
    avg(latest) AS latest_mean,
    stddev_samp(latest) AS latest_sd
  FROM evaluable
  GROUP BY instrument
),
classified AS (
  SELECT
    v.instrument,
    v.baseline,
    v.latest,
    p.higher_is_worse,
    p.response_fraction,
    p.remission_below,
    (v.latest - v.baseline) / (sqrt(2) * c.baseline_sd * sqrt(1 - p.reliability)) AS rci
  FROM evaluable AS v
  JOIN cohort AS c ON c.instrument = v.instrument
  LEFT JOIN params AS p ON p.instrument = v.instrument
)
SELECT
  c.instrument,
  (SELECT count(*) FROM per_unit AS u WHERE u.instrument = c.instrument) AS patients,
  c.evaluable,
  c.baseline_mean,
  c.baseline_sd,
  c.latest_mean,
  c.latest_sd,
  count(*) FILTER (WHERE x.higher_is_worse AND x.baseline > 0 AND x.latest <= x.response_fraction * x.baseline)
    AS responders,
  count(*) FILTER (WHERE x.latest < x.remission_below) AS remitters,
  count(*) FILTER (WHERE CASE WHEN x.higher_is_worse THEN x.rci < -1.96 ELSE x.rci > 1.96 END)
    AS reliable_improved,
  count(*) FILTER (WHERE CASE WHEN x.higher_is_worse THEN x.rci > 1.96 ELSE x.rci < -1.96 END)
    AS reliable_deteriorated
FROM cohort AS c
JOIN classified AS x ON x.instrument = c.instrument
GROUP BY c.instrument, c.evaluable, c.baseline_mean, c.baseline_sd, c.latest_mean, c.latest_sd
ORDER BY c.instrument;
