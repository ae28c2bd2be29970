-- name: pair
-- summary: Joint articles of two countries, year by year, with each country's articles beside them.
-- params:
--   country        ISO alpha-3 code of the first country
--   partner        ISO alpha-3 code of the second country
--   field          field code
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
-- Every year of the span is listed: a year with no row was under the source's publication floor
-- (joint_articles is NULL there), not zero.
WITH years AS (
    SELECT DISTINCT year, complete
    FROM pairs
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
),
joint AS (
    SELECT year, joint_articles
    FROM pairs
    WHERE country_a = least($country, $partner) AND country_b = greatest($country, $partner)
      AND field = $field AND source = $source
),
articles AS (
    SELECT year,
           CAST(sum(articles) FILTER (WHERE country = $country) AS BIGINT) AS country_articles,
           CAST(sum(articles) FILTER (WHERE country = $partner) AS BIGINT) AS partner_articles
    FROM country_articles
    WHERE field = $field AND source = $source AND country IN ($country, $partner)
    GROUP BY year
)
SELECT years.year,
       joint.joint_articles,
       years.complete,
       joint.joint_articles / articles.country_articles AS country_share,
       joint.joint_articles / articles.partner_articles AS partner_share
FROM years
LEFT JOIN joint ON joint.year = years.year
LEFT JOIN articles ON articles.year = years.year
ORDER BY years.year
