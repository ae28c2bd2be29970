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
--   group_b        B's group code, or NULL
--   metric         ranking: joint | affinity
--   count          full | fractional (paper-level sources)
--   limit          rows to return (1-100)
--   min_joint      by affinity, only pairs with this many joint articles are ranked
-- Affinity (association strength): C(i,j) * T / (L(i) * L(j)), as in partners.sql.
WITH volume AS (
    SELECT country, CAST(sum(joint_articles) AS DOUBLE) AS links
    FROM partner_links
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
    GROUP BY country
),
inside AS (SELECT country FROM country_groups WHERE group_code = $among),
side_a AS (SELECT country FROM country_groups WHERE group_code = $group_a),
side_b AS (SELECT country FROM country_groups WHERE group_code = $group_b),
chosen AS (
    SELECT CASE WHEN $group_a IS NOT NULL AND country_a NOT IN (SELECT country FROM side_a) THEN country_b
                ELSE country_a END AS code_a,
           CASE WHEN $group_a IS NOT NULL AND country_a NOT IN (SELECT country FROM side_a) THEN country_a
                ELSE country_b END AS code_b,
           CAST(sum(joint_articles) AS BIGINT) AS joint_articles,
           CAST(sum(fractional_articles) AS DOUBLE) AS fractional_articles,
           count(*) AS published_years
    FROM pairs
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
      AND ($among IS NULL OR (country_a IN (SELECT country FROM inside) AND country_b IN (SELECT country FROM inside)))
      AND ($group_a IS NULL
           OR (country_a IN (SELECT country FROM side_a) AND country_b IN (SELECT country FROM side_b))
           OR (country_b IN (SELECT country FROM side_a) AND country_a IN (SELECT country FROM side_b)))
    GROUP BY ALL
),
ranked AS (
    SELECT a.name AS country_a,
           b.name AS country_b,
           chosen.joint_articles,
           chosen.fractional_articles,
           chosen.joint_articles * (SELECT sum(links) FROM volume) / (va.links * vb.links) AS affinity,
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
