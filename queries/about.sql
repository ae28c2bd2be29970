-- name: about
-- summary: Every source loaded, with its release, licence, citation, rows and incomplete years.
-- params: (none)
SELECT title, publisher, release, licence, citation, url, row_count, first_year, last_year,
       incomplete_years, source
FROM datasets
ORDER BY source, name
