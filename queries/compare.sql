-- name: compare
-- summary: Cross-border links of several countries or groups, year by year.
-- params:
--   subjects       list of ISO alpha-3 codes or group codes
--   field          field code
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
--   among          group code the partners must belong to, or NULL
-- A group's cross-border links are its members' joint articles with countries outside the group.
WITH members AS (
    SELECT code AS subject, code AS member FROM countries WHERE list_contains($subjects, code)
    UNION ALL
    SELECT group_code, country FROM country_groups WHERE list_contains($subjects, group_code)
),
links AS (
    SELECT m.subject, l.year, bool_and(l.complete) AS complete,
           CAST(sum(l.joint_articles) AS BIGINT) AS cross_border_links, count(DISTINCT l.partner) AS partners
    FROM partner_links AS l
    JOIN members AS m ON m.member = l.country
    LEFT JOIN members AS inside ON inside.subject = m.subject AND inside.member = l.partner
    WHERE inside.member IS NULL
      AND l.field = $field AND l.source = $source
      AND l.year BETWEEN $year_from AND $year_to AND (l.complete OR NOT $complete_only)
      AND ($among IS NULL OR l.partner IN (SELECT country FROM country_groups WHERE group_code = $among))
    GROUP BY m.subject, l.year
)
SELECT links.year,
       coalesce(c.name, g.name) AS country,
       links.cross_border_links,
       links.partners,
       a.articles,
       links.cross_border_links / a.articles AS links_per_article,
       links.complete,
       links.subject AS country_code
FROM links
LEFT JOIN countries AS c ON c.code = links.subject
LEFT JOIN groups AS g ON g.code = links.subject
LEFT JOIN country_articles AS a
       ON a.country = links.subject AND a.year = links.year AND a.field = $field AND a.source = $source
ORDER BY links.year, list_position($subjects, links.subject)
