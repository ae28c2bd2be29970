-- name: presence
-- summary: The countries each source lists at all, in its pair data and in its article counts.
-- params: (none)
-- A country missing here is absent from the dataset, which is not the same as under the 25-article floor.
SELECT source, 'pairs' AS kind, list(DISTINCT country ORDER BY country) AS countries
FROM partner_links
GROUP BY source
UNION ALL
SELECT source, 'articles', list(DISTINCT country ORDER BY country)
FROM country_articles
GROUP BY source
ORDER BY source, kind
