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
--   limit          rows to show (1-100); one more is returned, to tell a tie at the cut
--   min_articles   ratio rankings (share, international) rank only countries with this many articles
-- Partners are counted whatever group they are in: "top non-western" ranks non-western countries
-- by all their cross-border work.
-- One scan of country_years (each country's links, partners and articles per year; distinct partners
-- over the span from the partners' bits).
SELECT *
FROM (
    SELECT country_name AS country,
           CAST(sum(links) AS BIGINT) AS cross_border_links,
           bit_count(bit_or(partner_bits)) AS partners,
           CAST(sum(articles) AS BIGINT) AS articles,
           sum(links) / sum(articles) AS links_per_article,
           sum(international_articles) / sum(articles) AS international_share,
           country AS country_code
    FROM country_years
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
      AND ($among IS NULL OR list_contains(country_groups, $among))
    GROUP BY country, country_name
    HAVING count(links) > 0
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
LIMIT $limit + 1
