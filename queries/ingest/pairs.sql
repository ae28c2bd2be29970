-- name: pairs
-- summary: Joint papers per unordered country pair (country_a < country_b), field and year: full and fractional counts.
-- relations:
--   papers, paper_countries, paper_fields   the paper tables
-- params:
--   first_incomplete   the first publication year marked incomplete
--   source             the source these rows are marked with
-- A paper with k countries has k(k-1)/2 pairs; each gets 1/(k-1) of it, so a country's
-- fractional links from one paper add up to exactly 1.
WITH pc AS (
    SELECT c.work_id, c.country, p.year, p.countries AS k
    FROM paper_countries AS c
    JOIN papers AS p ON p.work_id = c.work_id
    WHERE p.countries >= 2
)
SELECT
    a.country AS country_a,
    b.country AS country_b,
    f.field,
    a.year,
    count(*) AS joint_articles,
    sum(1 / CAST(a.k - 1 AS DOUBLE)) AS fractional_articles,
    a.year < $first_incomplete AS complete,
    $source AS source
FROM pc AS a
JOIN pc AS b ON b.work_id = a.work_id AND a.country < b.country
JOIN paper_fields AS f ON f.work_id = a.work_id
GROUP BY a.country, b.country, f.field, a.year
