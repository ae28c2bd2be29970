-- name: rising
-- summary: Fastest-growing collaborations: compound annual growth of joint articles over one window of complete years.
-- params:
--   members        the subject's countries ([its code], or a group's members), or NULL to rank every pair
--   among          group code the partners (or, for every pair, both countries)
--                  must belong to, or NULL
--   field          field code
--   source         dataset source
--   year_from      first year of the window (a complete year)
--   year_to        last year of the window (a complete year)
--   min_volume     joint articles a collaboration needs in the last year
-- Every row is measured over the same window: published in both end years, growth
-- (last / first) ^ (1 / (year_to - year_from)) - 1. Rows with first_value NULL reached min_volume
-- in the last year but were unpublished (under the floor) in the first: new inside the window.
-- A group's collaborations are with countries outside it, summed over its members on one basis:
-- only member-partner pairs published in both end years, so a member pair crossing the floor
-- inside the window is not counted as growth. A group's row with no such pair is new.
WITH ends AS (
    SELECT CASE WHEN $members IS NULL THEN country END AS country, country AS member, partner, year,
           CAST(sum(joint_articles) AS BIGINT) AS joint_articles
    FROM partner_links
    WHERE field = $field AND source = $source AND complete AND year IN ($year_from, $year_to)
      AND (($members IS NULL AND country < partner
            AND ($among IS NULL OR (country IN (SELECT country FROM country_groups WHERE group_code = $among) AND partner IN (SELECT country FROM country_groups WHERE group_code = $among))))
           OR ($members IS NOT NULL
               AND list_contains($members, country) AND NOT list_contains($members, partner)
               AND ($among IS NULL OR partner IN (SELECT country FROM country_groups WHERE group_code = $among))))
    GROUP BY ALL
),
member_spans AS (
    SELECT country, member, partner,
           max(joint_articles) FILTER (WHERE year = $year_from) AS first_value,
           max(joint_articles) FILTER (WHERE year = $year_to) AS last_value
    FROM ends
    GROUP BY country, member, partner
),
both_ends AS (
    SELECT country, partner,
           sum(first_value) FILTER (WHERE first_value IS NOT NULL AND last_value IS NOT NULL) AS first_value,
           sum(last_value) FILTER (WHERE first_value IS NOT NULL AND last_value IS NOT NULL) AS last_both,
           sum(last_value) AS last_all
    FROM member_spans
    GROUP BY country, partner
),
spans AS (
    SELECT country, partner, CAST(first_value AS BIGINT) AS first_value,
           CAST(CASE WHEN first_value IS NULL THEN last_all ELSE last_both END AS BIGINT) AS last_value
    FROM both_ends
)
SELECT c.name AS country_a,
       p.name AS country_b,
       pow(spans.last_value / spans.first_value, 1.0 / ($year_to - $year_from)) - 1 AS cagr,
       spans.first_value,
       spans.last_value,
       spans.country AS country_a_code,
       spans.partner AS country_b_code
FROM spans
LEFT JOIN countries AS c ON c.code = spans.country
JOIN countries AS p ON p.code = spans.partner
WHERE spans.last_value >= $min_volume
ORDER BY spans.first_value IS NULL, cagr DESC, spans.last_value DESC, p.name
