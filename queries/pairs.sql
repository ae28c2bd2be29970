-- name: pairs
-- summary: Country pairs ranked by joint articles (or affinity) in a field and a span of years.
-- params:
--   field          field code
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
--   among          group code both countries must belong to, or NULL
--   group_a        between A and B: group A (country_a is the country in A), or NULL
--   group_b        group B (the other side of `between`), or NULL
--   metric         ranking: joint | affinity
--   count          full | fractional (paper-level sources)
--   limit          rows to show (1-100); one more is returned, to tell a tie at the cut
--   min_joint      by affinity, only pairs with this many joint articles are ranked
-- Affinity (association strength): C(i,j) * T / (L(i) * L(j)), as in partners.sql, summed over the
-- pair's rows of link_years (every year of the span, the year's totals beside the pair's count).
-- link_years holds each pair in both orientations: without `between` the one with country < partner
-- is kept; with it, the one whose country is in A (both, if each country is in both groups: then the
-- one with country < partner).
SELECT *
FROM (
    SELECT country_name AS country_a,
           partner_name AS country_b,
           CAST(sum(joint_articles) AS BIGINT) AS joint_articles,
           CAST(sum(fractional_articles) AS DOUBLE) AS fractional_articles,
           sum(joint_articles) * sum(total_links) / (sum(country_links) * sum(partner_links)) AS affinity,
           count(joint_articles) AS published_years,
           country AS country_a_code,
           partner AS country_b_code
    FROM link_years
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
      AND ($among IS NULL OR (list_contains(country_groups, $among) AND list_contains(partner_groups, $among)))
      AND CASE
          WHEN $group_a IS NULL THEN country < partner
          ELSE list_contains(country_groups, $group_a) AND list_contains(partner_groups, $group_b)
               AND (country < partner OR NOT (list_contains(partner_groups, $group_a) AND list_contains(country_groups, $group_b)))
      END
    GROUP BY country, country_name, partner, partner_name
    HAVING count(joint_articles) > 0
)
WHERE $metric <> 'affinity' OR joint_articles >= $min_joint
ORDER BY
    CASE $metric
        WHEN 'affinity' THEN affinity
        ELSE CASE WHEN $count = 'fractional' THEN fractional_articles ELSE CAST(joint_articles AS DOUBLE) END
    END DESC NULLS LAST,
    joint_articles DESC,
    country_a,
    country_b
LIMIT $limit + 1
