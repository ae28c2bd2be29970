-- name: unknown_codes
-- summary: Country codes the works carry that data/countries.csv doesn't know, with how many works carry each.
-- relations:
--   stage   the usable rows of works.sql
--   iso2    data/countries.csv: iso2 -> code (alpha-3)
SELECT code, count(*) AS works
FROM (SELECT unnest(codes) AS code FROM stage) AS used
WHERE code NOT IN (SELECT iso2 FROM iso2)
GROUP BY code
