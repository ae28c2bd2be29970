-- name: group_partners
-- summary: A group's partners outside it, ranked by links: the sum of member-partner joint articles.
-- params:
--   subject        the group's code
--   field          field code
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
--   among          group code the partners must belong to, or NULL
--   limit          rows to show (1-100); one more is returned, to tell a tie at the cut
-- An article with authors in two members and the partner counts twice (once per member-partner pair).
-- members (the column): how many of the group's members have a published pair-year with the partner.
-- Summed per member and partner first, then per partner: no DISTINCT aggregate (DuckDB plans each as a
-- join of two aggregates, most of this statement's time).
SELECT partner_name AS partner,
       CAST(sum(joint_articles) AS BIGINT) AS links,
       len(list_distinct(flatten(list(years)))) AS published_years,
       count(joint_articles) AS members,
       partner AS partner_code
FROM (
    SELECT partner, partner_name, sum(joint_articles) AS joint_articles,
           list(year) FILTER (WHERE joint_articles IS NOT NULL) AS years
    FROM link_years
    WHERE list_contains(country_groups, $subject) AND NOT list_contains(partner_groups, $subject)
      AND ($among IS NULL OR list_contains(partner_groups, $among))
      AND field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
    GROUP BY partner, partner_name, country
)
GROUP BY partner, partner_name
HAVING count(joint_articles) > 0
ORDER BY links DESC, partner_name
LIMIT $limit + 1
