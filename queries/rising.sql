-- name: rising
-- summary: Fastest-growing collaborations: compound annual growth of joint articles over complete years.
-- params:
--   country        ISO alpha-3 code, or NULL to rank every pair
--   field          field code
--   source         dataset source
--   year_from      first year of the span, inclusive
--   year_to        last year of the span, inclusive (a complete year)
--   min_volume     joint articles the pair needs in the last year, to keep tiny pairs out
--   min_years      fewest years between the first published year and the last
--   limit          rows to return (1-100)
-- A pair whose first year is unpublished (under the floor) starts from its first published year.
WITH spans AS (
    SELECT country, partner,
           arg_min(year, year) AS first_year, arg_min(joint_articles, year) AS first_value,
           max(year) AS last_year, arg_max(joint_articles, year) AS last_value
    FROM partner_links
    WHERE field = $field AND source = $source AND complete
      AND year BETWEEN $year_from AND $year_to
      AND ($country IS NULL AND country < partner OR country = $country)
    GROUP BY country, partner
),
grown AS (
    SELECT *, pow(last_value / first_value, 1.0 / (last_year - first_year)) - 1 AS cagr
    FROM spans
    WHERE last_year = $year_to AND last_value >= $min_volume AND last_year - first_year >= $min_years
)
SELECT p.name AS partner,
       grown.cagr,
       grown.first_year,
       grown.first_value,
       grown.last_year,
       grown.last_value,
       c.name AS country,
       grown.partner AS partner_code
FROM grown
JOIN countries AS c ON c.code = grown.country
JOIN countries AS p ON p.code = grown.partner
ORDER BY grown.cagr DESC, grown.last_value DESC, p.name
LIMIT $limit
