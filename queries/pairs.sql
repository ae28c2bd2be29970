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
--   among_members  the among group's members, or NULL
--   members_a      group A's members, or NULL
--   members_b      group B's members (the other side of `between`), or NULL
--   metric         ranking: joint | affinity
--   count          full | fractional (paper-level sources)
--   limit          rows to return (1-100)
--   min_joint      by affinity, only pairs with this many joint articles are ranked
-- Affinity (association strength): C(i,j) * T / (L(i) * L(j)), as in partners.sql. Members come bound
-- as lists (list_contains) and T as a window total: each IN-subquery or scalar subquery is one more
-- join for DuckDB to plan, and planning is most of what an answer costs.
WITH volume AS (
    SELECT country, CAST(sum(joint_articles) AS DOUBLE) AS links,
           sum(CAST(sum(joint_articles) AS DOUBLE)) OVER () AS total_links
    FROM partner_links
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
    GROUP BY country
),
chosen AS (
    SELECT CASE WHEN $group_a IS NOT NULL AND NOT list_contains($members_a, country_a) THEN country_b
                ELSE country_a END AS code_a,
           CASE WHEN $group_a IS NOT NULL AND NOT list_contains($members_a, country_a) THEN country_a
                ELSE country_b END AS code_b,
           CAST(sum(joint_articles) AS BIGINT) AS joint_articles,
           CAST(sum(fractional_articles) AS DOUBLE) AS fractional_articles,
           count(*) AS published_years
    FROM pairs
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
      AND ($among IS NULL OR (list_contains($among_members, country_a) AND list_contains($among_members, country_b)))
      AND ($group_a IS NULL
           OR (list_contains($members_a, country_a) AND list_contains($members_b, country_b))
           OR (list_contains($members_a, country_b) AND list_contains($members_b, country_a)))
    GROUP BY ALL
),
ranked AS (
    SELECT a.name AS country_a,
           b.name AS country_b,
           chosen.joint_articles,
           chosen.fractional_articles,
           chosen.joint_articles * va.total_links / (va.links * vb.links) AS affinity,
           chosen.published_years,
           chosen.code_a AS country_a_code,
           chosen.code_b AS country_b_code
    FROM chosen
    JOIN volume AS va ON va.country = chosen.code_a
    JOIN volume AS vb ON vb.country = chosen.code_b
    JOIN countries AS a ON a.code = chosen.code_a
    JOIN countries AS b ON b.code = chosen.code_b
)
SELECT *
FROM ranked
WHERE $metric <> 'affinity' OR joint_articles >= $min_joint
ORDER BY
    CASE $metric
        WHEN 'affinity' THEN affinity
        ELSE CASE WHEN $count = 'fractional' THEN fractional_articles ELSE CAST(joint_articles AS DOUBLE) END
    END DESC NULLS LAST,
    joint_articles DESC,
    country_a,
    country_b
LIMIT $limit
