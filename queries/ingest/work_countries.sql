-- name: work_countries
-- summary: Each work's countries as ISO alpha-3 codes, once per work (codes not in data/countries.csv drop out).
-- relations:
--   incoming   works with their alpha-2 `codes` (latest.sql)
--   iso2       data/countries.csv: iso2 -> code (alpha-3)
SELECT DISTINCT s.work_id, m.code AS country
FROM (SELECT work_id, unnest(codes) AS iso2 FROM incoming) AS s
JOIN iso2 AS m ON m.iso2 = s.iso2
