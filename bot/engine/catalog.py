"""The published tables: what `sql` may read and what `about` describes. One list, used by both."""

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
        "View of pairs in both orientations: one row per country, partner, field and year.",
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
        "The fields of each paper (see bot/data/ingest/mapping.py for the OpenAlex mapping).",
        (
            ("work_id", "work id (see papers)"),
            ("field", "field code"),
        ),
    ),
)

ALLOWED_TABLES: frozenset[str] = frozenset(table.name for table in PUBLISHED)
