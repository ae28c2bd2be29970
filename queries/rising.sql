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
SELECT *
FROM (
    SELECT country_name AS country_a,
           partner_name AS country_b,
           pow(last_value / first_value, 1.0 / ($year_to - $year_from)) - 1 AS cagr,
           first_value,
           last_value,
           country AS country_a_code,
           partner AS country_b_code
    FROM (
        -- a group's members summed; a country (or every pair) is one member per row
        SELECT country, country_name, partner, partner_name,
               CAST(sum(first_value) FILTER (WHERE last_value IS NOT NULL) AS BIGINT) AS first_value,
               CAST(CASE WHEN count(first_value) FILTER (WHERE last_value IS NOT NULL) = 0 THEN sum(last_value)
                         ELSE sum(last_value) FILTER (WHERE first_value IS NOT NULL) END AS BIGINT) AS last_value
        FROM (
            SELECT CASE WHEN $members IS NULL THEN country END AS country,
                   CASE WHEN $members IS NULL THEN country_name END AS country_name,
                   partner, partner_name,
                   max(joint_articles) FILTER (WHERE year = $year_from) AS first_value,
                   max(joint_articles) FILTER (WHERE year = $year_to) AS last_value
            FROM link_years
            WHERE field = $field AND source = $source AND complete AND year IN ($year_from, $year_to)
              AND CASE
                  WHEN $members IS NULL THEN country < partner
                       AND ($among IS NULL OR (list_contains(country_groups, $among) AND list_contains(partner_groups, $among)))
                  ELSE list_contains($members, country) AND NOT list_contains($members, partner)
                       AND ($among IS NULL OR list_contains(partner_groups, $among))
              END
            GROUP BY link_years.country, link_years.country_name, partner, partner_name
        )
        GROUP BY country, country_name, partner, partner_name
    )
    WHERE last_value >= $min_volume
)
ORDER BY first_value IS NULL, cagr DESC, last_value DESC, country_b
