-- name: activity_years
-- summary: The years ETO marks incomplete for AI patents and investment (they differ from articles').
-- params: (none)
SELECT 'patent applications' AS metric,
       list(DISTINCT year ORDER BY year) FILTER (WHERE NOT complete) AS incomplete_years
FROM country_patents
WHERE category = 'All'
UNION ALL
SELECT 'estimated investment',
       list(DISTINCT year ORDER BY year) FILTER (WHERE NOT complete)
FROM country_investment
WHERE sector = 'All'
