-- name: coverage
-- summary: Which years each field has from each source, which of them are incomplete, and which countries appear.
-- params: (none)
-- Read once per data version: every answer needs its field's years, and whether a country is in the data at all.
SELECT field,
       source,
       min(year) AS first_year,
       max(year) AS last_year,
       list(DISTINCT year ORDER BY year) FILTER (WHERE NOT complete) AS incomplete_years,
       max(year) FILTER (WHERE complete) AS last_complete_year,
       count(*) AS pair_years
FROM pairs
GROUP BY field, source
ORDER BY field, source
