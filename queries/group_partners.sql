-- name: group_partners
-- summary: A group's partners outside it, ranked by links: the sum of member-partner joint articles.
-- params:
--   members        the group's members (ISO alpha-3 codes)
--   field          field code
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
--   among          group code the partners must belong to, or NULL
--   limit          rows to return (1-100)
-- An article with authors in two members and the partner counts twice (once per member-partner pair).
-- members (the column): how many of the group's members have a published pair-year with the partner.
WITH links AS (
    SELECT partner, CAST(sum(joint_articles) AS BIGINT) AS links,
           count(DISTINCT year) AS published_years, count(DISTINCT country) AS members
    FROM partner_links
    WHERE list_contains($members, country) AND NOT list_contains($members, partner)
      AND ($among IS NULL OR partner IN (SELECT country FROM country_groups WHERE group_code = $among))
      AND field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
    GROUP BY partner
)
SELECT c.name AS partner, links.links, links.published_years, links.members, links.partner AS partner_code
FROM links
JOIN countries AS c ON c.code = links.partner
ORDER BY links.links DESC, c.name
LIMIT $limit
