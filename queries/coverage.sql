-- name: coverage
-- summary: Which years a field has from a source, and which of them are incomplete.
-- params:
--   field          field code
--   source         dataset source
SELECT min(year) AS first_year,
       max(year) AS last_year,
       list(DISTINCT year ORDER BY year) FILTER (WHERE NOT complete) AS incomplete_years,
       max(year) FILTER (WHERE complete) AS last_complete_year,
       count(*) AS pair_years
FROM pairs
WHERE field = $field AND source = $source
