-- name: partners
-- summary: The countries one country co-authors with most, in a field and a span of years.
-- params:
--   country        ISO alpha-3 code of the country asked about
--   field          field code (fields.code)
--   source         dataset source (datasets.source)
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
--   among          group code the partners must belong to, or NULL for all
--   metric         ranking: joint | share | affinity
--   count          full | fractional: with joint, rank by fractional_articles (paper-level sources)
--   limit          rows to return (1-100)
-- Affinity is observed over expected: C(i,j) * N / (P(i) * P(j)), N = the sum of every country's
-- article count in the field and years (an article with authors in k countries counts k times).
-- fractional_articles: each joint paper weighs 1/(k-1) for a paper with k countries (NULL for ETO).
WITH links AS (
    SELECT partner, CAST(sum(joint_articles) AS BIGINT) AS joint_articles,
           CAST(sum(fractional_articles) AS DOUBLE) AS fractional_articles, count(*) AS published_years
    FROM partner_links
    WHERE country = $country AND field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
      AND ($among IS NULL OR partner IN (SELECT country FROM country_groups WHERE group_code = $among))
    GROUP BY partner
),
articles AS (
    SELECT country, CAST(sum(articles) AS BIGINT) AS articles
    FROM country_articles
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
    GROUP BY country
),
world AS (SELECT CAST(sum(articles) AS BIGINT) AS total FROM articles),
ranked AS (
    SELECT c.name AS partner,
           links.joint_articles,
           links.fractional_articles,
           links.joint_articles / own.articles AS partner_share,
           links.joint_articles * world.total / (own.articles * theirs.articles) AS affinity,
           links.published_years,
           links.partner AS partner_code
    FROM links
    JOIN countries AS c ON c.code = links.partner
    LEFT JOIN articles AS own ON own.country = $country
    LEFT JOIN articles AS theirs ON theirs.country = links.partner
    CROSS JOIN world
)
SELECT partner, joint_articles, fractional_articles, partner_share, affinity, published_years, partner_code
FROM ranked
ORDER BY
    CASE $metric
        WHEN 'share' THEN partner_share
        WHEN 'affinity' THEN affinity
        ELSE CASE WHEN $count = 'fractional' THEN fractional_articles ELSE CAST(joint_articles AS DOUBLE) END
    END DESC NULLS LAST,
    joint_articles DESC,
    partner
LIMIT $limit
