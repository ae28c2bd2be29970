-- name: top
-- summary: Countries ranked by cross-border links: the sum of their joint articles with every partner.
-- params:
--   field          field code
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
--   among          group code the ranked countries must belong to, or NULL
--   metric         ranking: joint (cross-border links) | share (links per article) | international (exact share, paper-level sources)
--   limit          rows to return (1-100)
--   min_articles   ratio rankings (share, international) rank only countries with this many articles
-- Partners are counted whatever group they are in: "top non-western" ranks non-western countries
-- by all their cross-border work.
WITH links AS (
    SELECT country, CAST(sum(joint_articles) AS BIGINT) AS cross_border_links, count(DISTINCT partner) AS partners
    FROM partner_links
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
      AND ($among IS NULL OR country IN (SELECT country FROM country_groups WHERE group_code = $among))
    GROUP BY country
),
articles AS (
    SELECT country, CAST(sum(articles) AS BIGINT) AS articles,
           CAST(sum(international_articles) AS BIGINT) AS international_articles
    FROM country_articles
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
      AND ($among IS NULL OR country IN (SELECT country FROM country_groups WHERE group_code = $among))
    GROUP BY country
),
ranked AS (
    SELECT c.name AS country,
           links.cross_border_links,
           links.partners,
           articles.articles,
           links.cross_border_links / articles.articles AS links_per_article,
           articles.international_articles / articles.articles AS international_share,
           links.country AS country_code
    FROM links
    JOIN countries AS c ON c.code = links.country
    LEFT JOIN articles ON articles.country = links.country
)
SELECT *
FROM ranked
WHERE $metric = 'joint' OR articles >= $min_articles
ORDER BY
    CASE $metric
        WHEN 'share' THEN links_per_article
        WHEN 'international' THEN international_share
        ELSE CAST(cross_border_links AS DOUBLE)
    END DESC NULLS LAST,
    cross_border_links DESC,
    country
LIMIT $limit
