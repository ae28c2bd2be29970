-- name: about
-- summary: Every source loaded, with its release, licence, citation, rows and incomplete years.
-- params: (none)
SELECT name, title, release, licence, row_count, first_year, last_year, incomplete_years, source,
       publisher, citation, url
FROM datasets
ORDER BY source, name
