-- name: pair
-- summary: Joint articles of two countries (or the links between groups), year by year, with each country's articles beside them.
-- params:
--   country        ISO alpha-3 code (or group code) of the first
--   partner        ISO alpha-3 code (or group code) of the second
--   country_members  the first's countries: [its code], or the group's members
--   partner_members  the second's countries
--   field          field code
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
-- Every year of the span is listed: a year with no row was under the source's publication floor
-- (joint_articles is NULL there), not zero. With a group, joint_articles is the sum over its
-- members of their joint articles with the other side (an article with two members counts twice);
-- pairs counts the member pairs published that year.
WITH years AS (
    SELECT DISTINCT year, complete
    FROM pairs
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
),
joint AS (
    SELECT year, CAST(sum(joint_articles) AS BIGINT) AS joint_articles, count(*) AS pairs
    FROM partner_links
    WHERE list_contains($country_members, country) AND list_contains($partner_members, partner)
      AND field = $field AND source = $source
    GROUP BY year
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
       joint.joint_articles / articles.partner_articles AS partner_share,
       joint.pairs
FROM years
LEFT JOIN joint ON joint.year = years.year
LEFT JOIN articles ON articles.year = years.year
ORDER BY years.year
