-- name: partners
-- summary: The countries one country co-authors with most, in a field and a span of years.
-- params:
--   subject        ISO alpha-3 code of the country asked about
--   field          field code (fields.code)
--   source         dataset source (datasets.source)
--   year_from      first year, inclusive
--   year_to        last year, inclusive
--   complete_only  true to use complete years only
--   among          group code the partners must belong to, or NULL
--   metric         ranking: joint | share | affinity
--   count          full | fractional (paper-level sources: 1/(k-1) per pair of a k-country paper)
--   limit          rows to return (1-100)
-- affinity: C(i,j) * T / (L(i) * L(j)), L = cross-border links, T = the sum of L (README: Metrics).
-- T and the subject's L are window totals over the volume rows, and the statement is kept flat (no CTEs):
-- DuckDB plans each answer afresh, and planning, not reading ~11,000 rows, is what an answer costs.
SELECT *
FROM (
    SELECT c.name AS partner,
           links.joint_articles,
           links.fractional_articles,
           links.joint_articles / (
               SELECT sum(articles) FROM country_articles
               WHERE country = $subject AND field = $field AND source = $source
                 AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
           ) AS partner_share,
           links.joint_articles * volume.total_links / (volume.own_links * volume.links) AS affinity,
           links.published_years,
           links.partner AS partner_code
    FROM (
        SELECT partner, CAST(sum(joint_articles) AS BIGINT) AS joint_articles,
               CAST(sum(fractional_articles) AS DOUBLE) AS fractional_articles, count(*) AS published_years
        FROM partner_links
        WHERE country = $subject AND field = $field AND source = $source
          AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
          AND ($among IS NULL OR partner IN (SELECT country FROM country_groups WHERE group_code = $among))
        GROUP BY partner
    ) AS links
    JOIN (
        SELECT country,
               CAST(sum(joint_articles) AS DOUBLE) AS links,
               sum(CAST(sum(joint_articles) AS DOUBLE)) OVER () AS total_links,
               max(CAST(sum(joint_articles) AS DOUBLE)) FILTER (WHERE country = $subject) OVER () AS own_links
        FROM partner_links
        WHERE field = $field AND source = $source
          AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
        GROUP BY country
    ) AS volume ON volume.country = links.partner
    JOIN countries AS c ON c.code = links.partner
)
ORDER BY
    CASE $metric
        WHEN 'share' THEN partner_share
        WHEN 'affinity' THEN affinity
        ELSE CASE WHEN $count = 'fractional' THEN fractional_articles ELSE CAST(joint_articles AS DOUBLE) END
    END DESC NULLS LAST,
    joint_articles DESC,
    partner
LIMIT $limit
