-- name: sources
-- summary: The datasets behind a source, for the source line and notes of an answer.
-- params:
--   source         dataset source, or NULL for every source
SELECT name, source, title, release, licence, incomplete_years
FROM datasets
WHERE $source IS NULL OR source = $source
ORDER BY source, name
