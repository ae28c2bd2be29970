-- name: pairs
-- summary: Country pairs ranked by joint articles (or affinity) in a field and a span of years.
-- params:
--   field          field code
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
--   among          group code both countries must belong to, or NULL
--   group_a        with group_b: one country in each group (country_a is the one in group_a), or NULL
--   group_b        the second group, or NULL
--   metric         ranking: joint | affinity
--   count          full | fractional: with joint, rank by fractional_articles (paper-level sources)
--   limit          rows to return (1-100)
-- Affinity (association strength): C(i,j) * T / (L(i) * L(j)), as in partners.sql.
WITH scope AS (
    SELECT country_a, country_b, year, joint_articles, fractional_articles
    FROM pairs
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
),
volume AS (
    SELECT country, CAST(sum(joint_articles) AS DOUBLE) AS links
    FROM (SELECT country_a AS country, joint_articles FROM scope
          UNION ALL
          SELECT country_b, joint_articles FROM scope) AS both_sides
    GROUP BY country
),
world AS (SELECT sum(links) AS total FROM volume),
first_group AS (SELECT country FROM country_groups WHERE group_code = $group_a),
second_group AS (SELECT country FROM country_groups WHERE group_code = $group_b),
chosen AS (
    SELECT CASE WHEN $group_a IS NOT NULL
                     AND NOT (country_a IN (SELECT country FROM first_group) AND country_b IN (SELECT country FROM second_group))
                THEN country_b ELSE country_a END AS code_a,
           CASE WHEN $group_a IS NOT NULL
                     AND NOT (country_a IN (SELECT country FROM first_group) AND country_b IN (SELECT country FROM second_group))
                THEN country_a ELSE country_b END AS code_b,
           year, joint_articles, fractional_articles
    FROM scope
    WHERE ($among IS NULL
           OR (country_a IN (SELECT country FROM country_groups WHERE group_code = $among)
               AND country_b IN (SELECT country FROM country_groups WHERE group_code = $among)))
      AND ($group_a IS NULL
           OR (country_a IN (SELECT country FROM first_group) AND country_b IN (SELECT country FROM second_group))
           OR (country_b IN (SELECT country FROM first_group) AND country_a IN (SELECT country FROM second_group)))
),
ranked AS (
    SELECT code_a, code_b, CAST(sum(joint_articles) AS BIGINT) AS joint_articles,
           CAST(sum(fractional_articles) AS DOUBLE) AS fractional_articles, count(*) AS published_years
    FROM chosen
    GROUP BY code_a, code_b
)
SELECT a.name AS country_a,
       b.name AS country_b,
       ranked.joint_articles,
       ranked.fractional_articles,
       ranked.joint_articles * world.total / (va.links * vb.links) AS affinity,
       ranked.published_years,
       ranked.code_a AS country_a_code,
       ranked.code_b AS country_b_code
FROM ranked
JOIN countries AS a ON a.code = ranked.code_a
JOIN countries AS b ON b.code = ranked.code_b
JOIN volume AS va ON va.country = ranked.code_a
JOIN volume AS vb ON vb.country = ranked.code_b
CROSS JOIN world
ORDER BY
    CASE $metric
        WHEN 'affinity' THEN ranked.joint_articles * world.total / (va.links * vb.links)
        ELSE CASE WHEN $count = 'fractional' THEN ranked.fractional_articles ELSE CAST(ranked.joint_articles AS DOUBLE) END
    END DESC NULLS LAST,
    ranked.joint_articles DESC,
    a.name,
    b.name
LIMIT $limit
