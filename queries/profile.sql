-- name: profile
-- summary: One country at a glance: articles, citations, patents, investment, cross-border links, top partners.
-- params:
--   subject        ISO alpha-3 code
--   field          field code (articles, citations and links; patents and investment are all AI)
--   source         dataset source
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
WITH articles AS (
    SELECT CAST(sum(articles) AS BIGINT) AS articles FROM country_articles
    WHERE country = $subject AND field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
),
citations AS (
    SELECT CAST(sum(citations) AS BIGINT) AS citations FROM country_citations
    WHERE country = $subject AND field = $field AND source = $source AND year BETWEEN $year_from AND $year_to
),
patents AS (
    SELECT CAST(sum(applications) AS BIGINT) AS patent_applications FROM country_patents
    WHERE country = $subject AND category = 'All' AND year BETWEEN $year_from AND $year_to
      AND (complete OR NOT $complete_only)
),
investment AS (
    SELECT CAST(sum(estimated_investment) AS BIGINT) AS estimated_investment FROM country_investment
    WHERE country = $subject AND sector = 'All' AND year BETWEEN $year_from AND $year_to
      AND (complete OR NOT $complete_only)
),
links AS (
    SELECT partner, CAST(sum(joint_articles) AS BIGINT) AS joint_articles FROM partner_links
    WHERE country = $subject AND field = $field AND source = $source
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
SELECT c.name AS country,
       articles.articles,
       citations.citations,
       patents.patent_applications,
       investment.estimated_investment AS investment_usd_millions,
       link_totals.cross_border_links,
       link_totals.partners,
       link_totals.cross_border_links / articles.articles AS links_per_article,
       top_partners.top_partners
FROM countries AS c
CROSS JOIN articles CROSS JOIN citations CROSS JOIN patents CROSS JOIN investment
CROSS JOIN link_totals CROSS JOIN top_partners
WHERE c.code = $subject
