-- name: paper_fields
-- summary: The paper_fields table: each kept work's fields, plus `all` for a work in the field of every work.
-- relations:
--   kept        the works kept
-- params:
--   all_field   the code of the field of every work (`all`)
SELECT work_id, field
FROM (
    SELECT work_id, unnest(CASE WHEN in_all THEN list_append(fields, $all_field) ELSE fields END) AS field
    FROM kept
) AS f
