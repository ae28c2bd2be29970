-- name: fields
-- summary: One country's cross-border work (or its work with one partner) in each research field.
-- params:
--   country        ISO alpha-3 code
--   partner        ISO alpha-3 code of a partner, or NULL for all partners
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
-- Fields overlap (computer vision is part of AI), so the rows must not be added up.
WITH links AS (
    SELECT field, CAST(sum(joint_articles) AS BIGINT) AS joint_articles, count(DISTINCT partner) AS partners
    FROM partner_links
    WHERE country = $country AND ($partner IS NULL OR partner = $partner) AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
    GROUP BY field
),
articles AS (
    SELECT field, CAST(sum(articles) AS BIGINT) AS articles
    FROM country_articles
    WHERE country = $country AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
    GROUP BY field
)
SELECT f.name AS field,
       links.joint_articles,
       links.partners,
       articles.articles,
       links.joint_articles / articles.articles AS share_of_articles,
       links.field AS field_code
FROM links
JOIN fields AS f ON f.code = links.field
LEFT JOIN articles ON articles.field = links.field
ORDER BY links.joint_articles DESC, f.name
