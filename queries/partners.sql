-- name: partners
-- summary: The partners of one country, or of a group outside it, in a field and a span of years.
-- params:
--   subject        ISO alpha-3 code of the country asked about, or a group code
--   field          field code (fields.code)
--   source         dataset source (datasets.source)
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
--   among          group code the partners must belong to, or NULL for all
--   metric         ranking: joint | share | affinity
--   count          full | fractional: with joint, rank by fractional_articles (paper-level sources)
--   limit          rows to return (1-100)
-- A group's partners are the countries outside it; joint_articles is then the group's links: the sum
-- of member-partner joint articles (an article with two members counts twice).
-- Affinity (association strength): C(i,j) * T / (L(i) * L(j)), L = a country's cross-border links
-- (the sum of its joint articles with every partner), T = the sum of L over all countries, all in the
-- same field, years and source. Above 1: more joint work than both collaboration volumes predict.
-- fractional_articles: each joint paper weighs 1/(k-1) for a paper with k countries (NULL for ETO).
WITH subject AS (
    SELECT code AS member FROM countries WHERE code = $subject
    UNION ALL
    SELECT country FROM country_groups WHERE group_code = $subject
),
scope AS (
    SELECT country, partner, year, joint_articles, fractional_articles
    FROM partner_links
    WHERE field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
),
volume AS (
    SELECT country, CAST(sum(joint_articles) AS DOUBLE) AS links FROM scope GROUP BY country
),
world AS (SELECT sum(links) AS total FROM volume),
links AS (
    SELECT partner, CAST(sum(joint_articles) AS BIGINT) AS joint_articles,
           CAST(sum(fractional_articles) AS DOUBLE) AS fractional_articles,
           count(DISTINCT year) AS published_years, count(DISTINCT country) AS members
    FROM scope
    WHERE country IN (SELECT member FROM subject) AND partner NOT IN (SELECT member FROM subject)
      AND ($among IS NULL OR partner IN (SELECT country FROM country_groups WHERE group_code = $among))
    GROUP BY partner
),
own AS (
    SELECT CAST(sum(articles) AS BIGINT) AS articles
    FROM country_articles
    WHERE country = $subject AND field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
),
ranked AS (
    SELECT c.name AS partner,
           links.joint_articles,
           links.fractional_articles,
           links.joint_articles / own.articles AS partner_share,
           links.joint_articles * world.total / (mine.links * theirs.links) AS affinity,
           links.published_years,
           links.members,
           links.partner AS partner_code
    FROM links
    JOIN countries AS c ON c.code = links.partner
    JOIN volume AS theirs ON theirs.country = links.partner
    LEFT JOIN volume AS mine ON mine.country = $subject
    CROSS JOIN own
    CROSS JOIN world
)
SELECT partner, joint_articles, fractional_articles, partner_share, affinity, published_years, members, partner_code
FROM ranked
ORDER BY
    CASE $metric
        WHEN 'share' THEN partner_share
        WHEN 'affinity' THEN affinity
        ELSE CASE WHEN $count = 'fractional' THEN fractional_articles ELSE CAST(joint_articles AS DOUBLE) END
    END DESC NULLS LAST,
    joint_articles DESC,
    partner
LIMIT $limit
