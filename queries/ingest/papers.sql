-- name: papers
-- summary: The papers table: one row per work kept, with its number of countries.
-- relations:
--   kept             the works kept: work_id, year, title, updated_date, fields, in_all (in the field `all`)
--   work_countries   work_countries.sql
SELECT
    k.work_id, k.year, k.title, k.updated_date,
    CAST(coalesce(c.countries, 0) AS INTEGER) AS countries,
    k.in_all AS all_works
FROM kept AS k
LEFT JOIN (SELECT work_id, count(*) AS countries FROM work_countries GROUP BY work_id) AS c ON c.work_id = k.work_id
