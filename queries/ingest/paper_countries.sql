-- name: paper_countries
-- summary: The paper_countries table: each kept work's countries (ISO alpha-3), once each.
-- relations:
--   kept             the works kept
--   work_countries   work_countries.sql
SELECT work_id, country
FROM work_countries
WHERE work_id IN (SELECT work_id FROM kept)
