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
-- One scan of link_years: a country's articles are summed over its lead rows (one per year).
SELECT *
FROM (
    SELECT country_name AS country,
           CAST(sum(joint_articles) AS BIGINT) AS cross_border_links,
           count(DISTINCT partner) FILTER (WHERE joint_articles IS NOT NULL) AS partners,
           CAST(sum(country_articles) FILTER (WHERE lead) AS BIGINT) AS articles,
           sum(joint_articles) / sum(country_articles) FILTER (WHERE lead) AS links_per_article,
           sum(country_international_articles) FILTER (WHERE lead)
               / sum(country_articles) FILTER (WHERE lead) AS international_share,
           country AS country_code
    FROM link_years
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
      AND ($among IS NULL OR list_contains(country_groups, $among))
    GROUP BY country, country_name
    HAVING count(joint_articles) > 0
)
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
