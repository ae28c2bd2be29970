-- name: country_articles
-- summary: Papers per country, field and year, and the exact number of them with a foreign co-author.
-- relations:
--   papers, paper_countries, paper_fields   the paper tables
-- params:
--   first_incomplete   the first publication year marked incomplete
--   source             the source these rows are marked with
SELECT
    c.country,
    f.field,
    p.year,
    count(*) AS articles,
    count(*) FILTER (WHERE p.countries >= 2) AS international_articles,
    p.year < $first_incomplete AS complete,
    $source AS source
FROM paper_countries AS c
JOIN papers AS p ON p.work_id = c.work_id
JOIN paper_fields AS f ON f.work_id = c.work_id
GROUP BY c.country, f.field, p.year
