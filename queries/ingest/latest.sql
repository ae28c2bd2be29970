-- name: latest
-- summary: The newest copy of each work read: the later updated_date wins; on a tie, the copy read last.
-- relations:
--   stage   the usable rows of works.sql (an id and a year), every copy of every work read
-- A copy without an updated_date loses to one with it.
SELECT work_id, year, title, updated_date, codes, fields, seq
FROM stage
QUALIFY row_number() OVER (PARTITION BY work_id ORDER BY updated_date DESC NULLS LAST, seq DESC) = 1
