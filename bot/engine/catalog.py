"""The published tables and functions: what `sql` may read and call, and what `about` describes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[tuple[str, str], ...]  # (column, meaning)


PUBLISHED: tuple[Table, ...] = (
    Table(
        "pairs",
        "Joint articles per unordered country pair, field and year (country_a < country_b).",
        (
            ("country_a", "ISO 3166 alpha-3 code"),
            ("country_b", "ISO 3166 alpha-3 code"),
            ("field", "field code (see fields)"),
            ("year", "publication year"),
            (
                "joint_articles",
                "articles with authors in both countries (full counting; ETO omits pair-years under 25)",
            ),
            ("fractional_articles", "fractional count (paper-level sources only, else NULL)"),
            ("complete", "false for years the source considers incomplete"),
            ("source", "which dataset the row comes from (see datasets)"),
        ),
    ),
    Table(
        "partner_links",
        "Pairs in both orientations: one row per country, partner, field and year.",
        (
            ("country", "ISO code"),
            ("partner", "ISO code"),
            ("field", "field code"),
            ("year", "year"),
            ("joint_articles", "joint articles"),
            ("fractional_articles", "fractional count or NULL"),
            ("complete", "complete year?"),
            ("source", "dataset"),
        ),
    ),
    Table(
        "link_years",
        "Every country and partner with a published pair-year, in every year of the field and source, "
        "with that year's totals beside it: one row per country, partner, field, year and source.",
        (
            ("country", "ISO code"),
            ("country_name", "the country's name"),
            ("country_groups", "codes of the groups the country is in (see groups)"),
            ("partner", "ISO code"),
            ("partner_name", "the partner's name"),
            ("partner_groups", "codes of the groups the partner is in"),
            ("field", "field code"),
            ("source", "dataset"),
            ("year", "year"),
            ("complete", "complete year?"),
            ("joint_articles", "joint articles, NULL in a year the pair was not published"),
            ("fractional_articles", "fractional count or NULL"),
            ("country_links", "the country's cross-border links that year: joint_articles summed over its partners"),
            ("partner_links", "the partner's cross-border links that year"),
            ("total_links", "every country's links that year, summed (each pair counted twice)"),
            ("country_articles", "the country's articles that year (NULL where the source has none)"),
            ("country_international_articles", "the country's articles with a foreign co-author (paper-level)"),
            ("partner_articles", "the partner's articles that year"),
            (
                "lead",
                "true on one row per country, field, source and year (its first partner's): sum a country's "
                "per-year totals (country_links, country_articles) over these rows, or each counts once per partner",
            ),
        ),
    ),
    Table(
        "country_years",
        "link_years summed over partners: one row per country with a published pair-year, field, year and source.",
        (
            ("country", "ISO code"),
            ("country_name", "the country's name"),
            ("country_groups", "codes of the groups the country is in"),
            ("field", "field code"),
            ("source", "dataset"),
            ("year", "year"),
            ("complete", "complete year?"),
            ("links", "cross-border links: joint articles summed over partners, NULL if none was published"),
            ("partners", "a list: the ISO codes of the partners with a published pair-year that year"),
            (
                "partner_bits",
                "the same partners as a bit string, one bit per country in the countries table in code order "
                "(NULL when none was published): bit_count(bit_or(partner_bits)) counts distinct partners over years",
            ),
            ("articles", "the country's articles that year (NULL where the source has none)"),
            ("international_articles", "articles with a foreign co-author (paper-level sources only)"),
        ),
    ),
    Table(
        "field_years",
        "The years each field's pair data covers: one row per field, source and year.",
        (
            ("field", "field code"),
            ("source", "dataset"),
            ("year", "year"),
            ("complete", "false if the source considers the year's pairs or articles incomplete"),
        ),
    ),
    Table(
        "country_articles",
        "Articles with at least one author in the country, per field and year.",
        (
            ("country", "ISO code"),
            ("field", "field code"),
            ("year", "year"),
            ("articles", "articles"),
            ("international_articles", "articles with a foreign co-author (paper-level sources only, else NULL)"),
            ("complete", "complete year?"),
            ("source", "dataset"),
        ),
    ),
    Table(
        "country_citations",
        "Citations to the country's articles, per field and year.",
        (
            ("country", "ISO code"),
            ("field", "field code"),
            ("year", "year"),
            ("citations", "citations"),
            ("source", "dataset"),
        ),
    ),
    Table(
        "country_patents",
        "AI patent applications per country, patent category and year.",
        (
            ("country", "ISO code"),
            ("category", "ETO patent category ('All' for every AI patent)"),
            ("year", "year"),
            ("applications", "patent applications"),
            ("complete", "complete year?"),
        ),
    ),
    Table(
        "country_investment",
        "Estimated AI investment per country, sector and year (ETO estimate, USD millions).",
        (
            ("country", "ISO code"),
            ("sector", "ETO sector ('All' for every sector)"),
            ("year", "year"),
            ("estimated_investment", "estimated investment, USD millions"),
            ("complete", "complete year?"),
        ),
    ),
    Table(
        "group_metrics",
        "ETO rows for groups, regions and offices (EU, NATO, Africa, WIPO...), kept apart from countries.",
        (
            ("group_code", "code (see groups)"),
            ("metric", "articles, citations, patent_applications, estimated_investment, ..."),
            ("category", "field code, patent category or sector"),
            ("year", "year or NULL for totals"),
            ("value", "the value"),
            ("complete", "complete year? (NULL when not given)"),
        ),
    ),
    Table(
        "countries",
        "The project's country reference table.",
        (
            ("code", "ISO 3166 alpha-3"),
            ("iso2", "ISO 3166 alpha-2"),
            ("name", "display name"),
            ("region", "continent"),
            ("subregion", "UN subregion"),
        ),
    ),
    Table(
        "country_groups",
        "Which countries belong to which groups (western, eu, asean, g7, ...).",
        (
            ("group_code", "group code"),
            ("country", "ISO code"),
        ),
    ),
    Table(
        "groups",
        "Groups, regions and other non-country names.",
        (
            ("code", "code"),
            ("kind", "bloc, region, office or ambiguous"),
            ("name", "display name"),
            ("definition", "how membership is defined"),
        ),
    ),
    Table(
        "fields",
        "Research fields.",
        (
            ("code", "code"),
            ("name", "display name"),
            ("description", "what it covers"),
        ),
    ),
    Table(
        "datasets",
        "Every source loaded: release, licence, citation, rows and incomplete years.",
        (
            ("name", "dataset key"),
            ("source", "source code used in the source column"),
            ("title", "title"),
            ("publisher", "who publishes it"),
            ("release", "release"),
            ("licence", "licence"),
            ("citation", "how to cite it"),
            ("url", "where it is documented"),
            ("row_count", "rows loaded"),
            ("first_year", "first year"),
            ("last_year", "last year"),
            ("incomplete_years", "years marked incomplete"),
        ),
    ),
    Table(
        "papers",
        "Paper-level sources (OpenAlex works from `collab ingest openalex`): one row per work held.",
        (
            ("work_id", "OpenAlex work id (W...)"),
            ("year", "publication year"),
            ("title", "title"),
            ("updated_date", "when OpenAlex last updated the work (the newest copy wins)"),
            ("countries", "number of distinct countries of its authors"),
            ("all_works", "true when ingested with --all-works (the field `all`)"),
        ),
    ),
    Table(
        "paper_countries",
        "The countries of each paper (distinct; from authorships' countries and institutions).",
        (
            ("work_id", "work id (see papers)"),
            ("country", "ISO code"),
        ),
    ),
    Table(
        "paper_fields",
        "The fields of each paper, from its OpenAlex concepts, topics and keywords (the README lists the mapping).",
        (
            ("work_id", "work id (see papers)"),
            ("field", "field code"),
        ),
    ),
)

ALLOWED_TABLES: frozenset[str] = frozenset(table.name for table in PUBLISHED)

# The functions typed SQL may call, as DuckDB's parser names them (operators included: `a + b` is the
# function "+"). An allowlist: a function that is not here is refused by name, so nothing that reads
# files, reveals settings, plans a string as SQL or makes data out of nothing (generate_series,
# repeat, printf, lpad, ...) gets through by being new or unlisted. Every output here is bounded by
# its inputs: no function multiplies a string or a list by a number the caller chooses.
FUNCTION_GROUPS: dict[str, tuple[str, ...]] = {
    "operators": ("+", "-", "*", "/", "//", "%", "^", "**", "||", "~~", "!~~", "~~*", "!~~*", "~~~"),
    "arithmetic": (
        "abs", "ceil", "ceiling", "floor", "round", "trunc", "sign", "sqrt", "cbrt", "exp", "ln", "log",
        "log10", "log2", "pow", "power", "mod", "greatest", "least", "nullif", "isnan", "isinf", "isfinite",
        "even", "gcd", "lcm",
    ),
    "strings": (
        "lower", "upper", "lcase", "ucase", "length", "len", "char_length", "character_length", "strlen",
        "substr", "substring", "left", "right", "trim", "ltrim", "rtrim", "starts_with", "ends_with", "prefix",
        "suffix", "contains", "strpos", "position", "instr", "split_part", "concat", "concat_ws", "reverse",
        "ascii", "chr", "regexp_matches", "regexp_extract", "regexp_full_match", "strip_accents",
        "nfc_normalize", "string_split", "str_split", "array_to_string",
    ),
    "dates": (
        "year", "month", "day", "quarter", "week", "weekday", "dayofweek", "dayofyear", "dayofmonth", "isodow",
        "isoyear", "yearweek", "weekofyear", "date_part", "datepart", "date_trunc", "datetrunc", "date_diff",
        "datediff", "date_sub", "make_date", "strftime", "strptime", "try_strptime", "current_date", "today",
        "age", "epoch", "last_day", "dayname", "monthname", "century", "decade", "to_years", "to_months",
        "to_days", "to_weeks",
    ),
    "aggregates": (
        "count", "count_star", "sum", "avg", "mean", "min", "max", "median", "mode", "quantile",
        "quantile_cont", "quantile_disc", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop",
        "var_samp", "corr", "covar_pop", "covar_samp", "regr_slope", "regr_intercept", "regr_r2", "regr_count",
        "first", "last", "any_value", "arg_max", "arg_min", "argmax", "argmin", "max_by", "min_by", "bool_and",
        "bool_or", "count_if", "countif", "string_agg", "group_concat", "listagg", "list", "array_agg",
        "approx_count_distinct", "product", "entropy", "kurtosis", "skewness", "fsum", "favg", "sumkahan",
    ),
    "windows": (
        "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value",
        "last_value", "nth_value",
    ),
    "lists and structs": (
        "list_value", "struct_pack", "row", "list_contains", "array_contains", "list_has", "list_position",
        "list_indexof", "array_position", "list_extract", "list_element", "array_extract", "array_length",
        "list_sort", "array_sort", "list_reverse_sort", "array_reverse_sort", "list_distinct", "array_distinct", "unnest", "list_min", "list_max",
        "list_sum", "list_count", "list_avg", "flatten", "struct_extract",
    ),
    "bits": ("bit_or", "bit_and", "bit_count", "get_bit"),  # partner_bits: no function here makes a longer bitstring
}  # fmt: skip
ALLOWED_FUNCTIONS: frozenset[str] = frozenset(name for names in FUNCTION_GROUPS.values() for name in names)


def published_columns() -> dict[str, tuple[str, ...]]:
    """Each published table's published columns: all that typed SQL can see of it."""
    return {table.name: tuple(column for column, _ in table.columns) for table in PUBLISHED}
