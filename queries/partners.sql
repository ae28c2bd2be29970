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
--   limit          rows to show (1-100); one more is returned, to tell a tie at the cut
--   min_joint      by affinity, only partners with this many joint articles in the span are ranked
-- affinity: C(i,j) * T / (L(i) * L(j)), L = cross-border links, T = the sum of L (README: Metrics).
-- link_years has every year of the span for each pair, the year's totals beside the pair's count,
-- so the span's L(i), L(j), T and the subject's articles are sums over the pair's own rows: one scan,
-- one GROUP BY (DuckDB plans each answer afresh; planning, not reading, is what an answer costs).
SELECT *
FROM (
    SELECT partner_name AS partner,
           CAST(sum(joint_articles) AS BIGINT) AS joint_articles,
           CAST(sum(fractional_articles) AS DOUBLE) AS fractional_articles,
           sum(joint_articles) / sum(country_articles) AS partner_share,
           sum(joint_articles) * sum(total_links) / (sum(country_links) * sum(partner_links)) AS affinity,
           count(joint_articles) AS published_years,
           partner AS partner_code
    FROM link_years
    WHERE country = $subject AND field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
      AND ($among IS NULL OR list_contains(partner_groups, $among))
    GROUP BY partner, partner_name
    HAVING count(joint_articles) > 0
)
WHERE $metric <> 'affinity' OR joint_articles >= $min_joint
ORDER BY
    CASE $metric
        WHEN 'share' THEN partner_share
        WHEN 'affinity' THEN affinity
        ELSE CASE WHEN $count = 'fractional' THEN fractional_articles ELSE CAST(joint_articles AS DOUBLE) END
    END DESC NULLS LAST,
    joint_articles DESC,
    partner
LIMIT $limit + 1
