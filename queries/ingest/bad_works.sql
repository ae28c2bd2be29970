-- name: bad_works
-- summary: The works read that have no usable OpenAlex id or publication year, with the reason.
-- relations:
--   works      the output of works.sql
-- params:
--   min_year   earliest publication_year accepted (for the message)
--   max_year   latest publication_year accepted (for the message)
SELECT
    seq,
    CASE WHEN work_id = '' OR work_id IS NULL
         THEN 'no OpenAlex work id (' || coalesce('"' || raw_id || '"', 'missing') || ')'
         ELSE 'no publication_year between ' || CAST($min_year AS VARCHAR) || ' and ' || CAST($max_year AS VARCHAR)
              || ' (' || coalesce(CAST(publication_year AS VARCHAR), 'missing') || ')' END AS message
FROM works
WHERE work_id = '' OR work_id IS NULL OR year IS NULL
