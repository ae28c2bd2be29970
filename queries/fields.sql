-- name: fields
-- summary: One country's cross-border work (or its work with one partner or group) in each research field.
-- params:
--   country        ISO alpha-3 code
--   partner_members  the partner side's codes (one country, or a group's members), or NULL for all partners
--   among          group code the partners must belong to, or NULL
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
-- Fields overlap (computer vision is part of AI), so the rows must not be added up.
-- A field's articles are counted over the years its pair data covers within the span (ETO's llm and
-- ai_safety pairs start in 2016, their article counts in 2015), so per_article divides like by like:
-- country_years holds exactly those years. Partners are counted as rows of a per-partner sum, not with
-- a DISTINCT aggregate (which DuckDB plans as a join of two aggregates).
WITH links AS (
    SELECT field, CAST(sum(joint_articles) AS BIGINT) AS joint_articles, count(joint_articles) AS partners
    FROM (
        SELECT field, partner, sum(joint_articles) AS joint_articles
        FROM link_years
        WHERE country = $country AND source = $source
          AND ($partner_members IS NULL OR list_contains($partner_members, partner))
          AND ($among IS NULL OR list_contains(partner_groups, $among))
          AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
        GROUP BY field, partner
    )
    GROUP BY field
    HAVING count(joint_articles) > 0
),
articles AS (
    SELECT field, CAST(sum(articles) AS BIGINT) AS articles
    FROM country_years
    WHERE country = $country AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
    GROUP BY field
)
SELECT f.name AS field,
       links.joint_articles,
       links.partners,
       articles.articles,
       links.joint_articles / articles.articles AS per_article,
       links.field AS field_code
FROM links
JOIN fields AS f ON f.code = links.field
LEFT JOIN articles ON articles.field = links.field
ORDER BY links.joint_articles DESC, f.name
