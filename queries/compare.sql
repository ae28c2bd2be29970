-- name: compare
-- summary: Cross-border links of several countries, year by year.
-- params:
--   countries      list of ISO alpha-3 codes
--   field          field code
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
WITH links AS (
    SELECT country, year, bool_and(complete) AS complete, CAST(sum(joint_articles) AS BIGINT) AS cross_border_links,
           count(DISTINCT partner) AS partners
    FROM partner_links
    WHERE list_contains($countries, country) AND field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
    GROUP BY country, year
)
SELECT links.year,
       c.name AS country,
       links.cross_border_links,
       links.partners,
       a.articles,
       links.complete,
       links.country AS country_code
FROM links
JOIN countries AS c ON c.code = links.country
LEFT JOIN country_articles AS a
       ON a.country = links.country AND a.year = links.year AND a.field = $field AND a.source = $source
ORDER BY links.year, list_position($countries, links.country)
