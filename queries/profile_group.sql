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
WITH members AS (SELECT country AS member FROM country_groups WHERE group_code = $subject),
articles AS (
    SELECT CAST(sum(value) AS BIGINT) AS articles FROM group_metrics
    WHERE group_code = $subject AND metric = 'articles' AND category = $field AND $source = 'eto'
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
),
citations AS (
    SELECT CAST(sum(value) AS BIGINT) AS citations FROM group_metrics
    WHERE group_code = $subject AND metric = 'citations' AND category = $field AND $source = 'eto'
      AND year BETWEEN $year_from AND $year_to
),
links AS (
    SELECT partner, CAST(sum(joint_articles) AS BIGINT) AS joint_articles FROM partner_links
    WHERE country IN (SELECT member FROM members) AND partner NOT IN (SELECT member FROM members)
      AND field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
    GROUP BY partner
),
link_totals AS (
    SELECT CAST(sum(joint_articles) AS BIGINT) AS cross_border_links, count(*) AS partners FROM links
),
top_partners AS (
    SELECT string_agg(c.name, ', ' ORDER BY links.joint_articles DESC, c.name) AS top_partners
    FROM (SELECT * FROM links ORDER BY joint_articles DESC, partner LIMIT 3) AS links
    JOIN countries AS c ON c.code = links.partner
)
SELECT g.name AS "group",
       articles.articles,
       citations.citations,
       link_totals.cross_border_links,
       link_totals.partners,
       link_totals.cross_border_links / articles.articles AS links_per_article,
       top_partners.top_partners
FROM groups AS g
CROSS JOIN articles CROSS JOIN citations CROSS JOIN link_totals CROSS JOIN top_partners
WHERE g.code = $subject
