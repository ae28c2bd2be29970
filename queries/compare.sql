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
-- Two scans of link_years, no members table: a country's own rows, and the rows of a group's
-- members with partners outside it (each row carries its country's and partner's groups).
-- A country has one row per partner and year, so its partners are count(joint_articles); a group's
-- members share partners, so its rows are first summed per partner (no DISTINCT aggregate: DuckDB
-- plans one as a join of two aggregates, a third of this statement's time).
SELECT year,
       country,
       cross_border_links,
       partners,
       articles,
       cross_border_links / articles AS links_per_article,
       complete,
       country_code
FROM (
    SELECT year, country_name AS country,
           CAST(sum(joint_articles) AS BIGINT) AS cross_border_links,
           count(joint_articles) AS partners,
           max(country_articles) AS articles,
           bool_and(complete) AS complete,
           country AS country_code
    FROM link_years
    WHERE list_contains($subjects, country)
      AND field = $field AND source = $source
      AND year BETWEEN $year_from AND $year_to AND (complete OR NOT $complete_only)
      AND ($among IS NULL OR list_contains(partner_groups, $among))
    GROUP BY country, country_name, year
    HAVING count(joint_articles) > 0
    UNION ALL
    SELECT year, name, CAST(sum(joint) AS BIGINT), count(joint), NULL, bool_and(complete), code
    FROM (
        SELECT l.year, g.name, g.code, l.partner, sum(l.joint_articles) AS joint, bool_and(l.complete) AS complete
        FROM link_years AS l
        JOIN groups AS g ON list_contains($subjects, g.code) AND list_contains(l.country_groups, g.code)
        WHERE NOT list_contains(l.partner_groups, g.code)
          AND l.field = $field AND l.source = $source
          AND l.year BETWEEN $year_from AND $year_to AND (l.complete OR NOT $complete_only)
          AND ($among IS NULL OR list_contains(l.partner_groups, $among))
        GROUP BY g.code, g.name, l.year, l.partner
    )
    GROUP BY code, name, year
    HAVING count(joint) > 0
)
ORDER BY year, list_position($subjects, country_code)
