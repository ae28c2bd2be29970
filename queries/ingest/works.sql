-- name: works
-- summary: One narrow row per work read: its id, year, title, countries (ISO alpha-2) and AI fields.
-- relations:
--   work_source    the works read: id, publication_year, title, updated_date, authorships, concepts,
--                  topics, keywords (as OpenAlex spells them) and seq, the input position
--   field_rules    one row, `rules`: the field mapping of bot/data/ingest/mapping.py
-- params:
--   min_year           earliest publication_year accepted
--   max_year           latest publication_year accepted
--   concept_min_score  a concept counts from this score
--   keep_titles        true to keep the title of every work, not only of works in an AI field
-- A work's countries are the distinct union, over its authorships, of `countries` and
-- `institutions[].country_code`. work_id is empty and year NULL when the work has none usable
-- (bad_works.sql reports those). DuckDB dialect; Spark runs it through sqlglot (sql.py).
WITH read AS (
    SELECT
        left(w.id, 80) AS raw_id,
        w.publication_year,
        upper(regexp_extract(w.id, '^(?:https?://openalex\.org/)?([Ww][0-9]+)$', 1)) AS work_id,
        CASE WHEN w.publication_year BETWEEN $min_year AND $max_year THEN w.publication_year END AS year,
        w.title,
        try_cast(w.updated_date AS TIMESTAMP) AS updated_date,
        list_distinct(list_filter(
            list_transform(
                flatten(list_transform(coalesce(w.authorships, []), lambda a: list_concat(
                    coalesce(a.countries, []),
                    list_transform(coalesce(a.institutions, []), lambda i: i.country_code)))),
                lambda c: upper(trim(c))),
            lambda c: c IS NOT NULL AND c <> '')) AS codes,
        list_transform(
            list_filter(coalesce(w.concepts, []), lambda c: c.score >= $concept_min_score),
            lambda c: c.id) AS concept_ids,
        list_transform(coalesce(w.topics, []), lambda t: t.id) AS topic_ids,
        list_transform(coalesce(w.topics, []), lambda t: t.subfield.id) AS subfield_ids,
        list_transform(
            list_concat(
                list_transform(coalesce(w.topics, []), lambda t: t.display_name),
                list_transform(coalesce(w.keywords, []), lambda k: k.display_name)),
            lambda n: lower(n)) AS names,
        w.seq,
        r.rules
    FROM work_source AS w
    CROSS JOIN field_rules AS r
),
matched AS (
    SELECT
        raw_id, publication_year, work_id, year, title, updated_date, codes, seq,
        list_transform(
            list_filter(rules, lambda rule:
                list_has_any(concept_ids, rule.concepts)
                OR list_has_any(topic_ids, rule.topics)
                OR list_has_any(subfield_ids, rule.subfields)
                OR array_length(list_filter(names, lambda n:
                    array_length(list_filter(rule.name_contains, lambda text: contains(n, text))) > 0)) > 0),
            lambda rule: rule.field) AS in_rules
    FROM read
)
SELECT
    raw_id, publication_year, work_id, year,
    CASE WHEN $keep_titles OR array_length(in_rules) > 0 THEN title END AS title,
    updated_date, codes,
    -- Every work in a sub-field (cv, nlp, robotics, llm) is also an AI work.
    CASE WHEN array_length(in_rules) > 0 AND NOT list_contains(in_rules, 'ai')
         THEN list_append(in_rules, 'ai') ELSE in_rules END AS fields,
    seq
FROM matched
