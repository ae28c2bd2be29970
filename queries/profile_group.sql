-- name: profile_group
-- summary: One group at a glance: ETO's own article and citation rows for it, its links outside the group, top partners.
-- params:
--   subject        group code
--   field          field code
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
-- ETO publishes articles and citations for some groups (EU, ASEAN, OECD, continents...); members'
-- counts can't be added up instead (an article with authors in two members would count twice), so
-- articles is NULL for the others.
-- One row of scalar subqueries; the links from link_years, whose rows carry both sides' groups and the
-- partner's name (no members table, no join), the top three partners the first of a sorted list.
SELECT "group", articles, citations, cross_border_links, partners,
       cross_border_links / articles AS links_per_article, top_partners
FROM (
SELECT g.name AS "group",
       (SELECT CAST(sum(value) AS BIGINT) FROM group_metrics
        WHERE group_code = $subject AND metric = 'articles' AND category = $field AND $source = 'eto'
          AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)) AS articles,
       (SELECT CAST(sum(value) AS BIGINT) FROM group_metrics
        WHERE group_code = $subject AND metric = 'citations' AND category = $field AND $source = 'eto'
          AND year BETWEEN $year_from AND $year_to) AS citations,
       links.cross_border_links,
       links.partners,
       links.top_partners
FROM groups AS g,
     (SELECT CAST(sum(joint_articles) AS BIGINT) AS cross_border_links,
             count(*) AS partners,
             array_to_string(list(partner_name ORDER BY joint_articles DESC, partner)[1:3], ', ') AS top_partners
      FROM (SELECT partner, partner_name, sum(joint_articles) AS joint_articles
            FROM link_years
            WHERE list_contains(country_groups, $subject) AND NOT list_contains(partner_groups, $subject)
              AND field = $field AND source = $source
              AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
            GROUP BY partner, partner_name
            HAVING count(joint_articles) > 0)) AS links
WHERE g.code = $subject
)
