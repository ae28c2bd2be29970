"""Which OpenAlex works belong to which collab field: the mapping, written out in one place.

A work is in a field when any of these holds (a work can be in several fields):

| field    | OpenAlex concept (score >= 0.3)                          | OpenAlex topic (any of the work's topics)                      | keyword / topic name contains |
|----------|-----------------------------------------------------------|----------------------------------------------------------------|-------------------------------|
| cv       | C31972630 Computer vision                                 | subfield 1707 Computer Vision and Pattern Recognition          |                               |
| nlp      | C204321447 Natural language processing                    | T10181 Natural Language Processing Techniques, T10028 Topic Modeling |                         |
| robotics | C34413123 Robotics, C90509273 Robot                       | T10191 Robotics and Sensor-Based Localization, T10586 Robotic Path Planning Algorithms, T10653 Robot Manipulation and Learning, T10462 Reinforcement Learning in Robotics | |
| llm      |                                                           |                                                                | "large language model"        |
| ai       | C154945302 Artificial intelligence, C119857082 Machine learning, C108583219 Deep learning, C50644808 Artificial neural network | subfield 1702 Artificial Intelligence | — and every work in cv, nlp, robotics or llm |

Why these rules:
- Concepts are OpenAlex's legacy tags. OpenAlex assigns a concept when its score is at least 0.3
  and then adds every ancestor of an assigned concept, often with a score of 0: an "Artificial
  intelligence" concept at score 0.0 only says a descendant concept was assigned, so concepts
  count from a score of 0.3 (`CONCEPT_MIN_SCORE`), OpenAlex's own threshold.
- Topics (OpenAlex's current classification, about 4,500 topics in subfields, fields and domains)
  are listed per work only when assigned (at most three), so any listed topic counts. The
  subfield "Computer Vision and Pattern Recognition" is OpenAlex's own and a little wider than
  ETO's computer vision (it also holds e.g. data-visualisation topics).
- Neither taxonomy has a large-language-model node, so `llm` is matched on the name of a work's
  keyword or topic. `ai_safety`, `chips` and `cyber` have no OpenAlex mapping: ingested works
  never land in them, and `source openalex in ai_safety` says there is no data.
- `all` is not a rule: `ingest openalex --all-works` puts every work in it (plus its AI fields).

IDs match in both spellings OpenAlex uses: "https://openalex.org/C31972630" and "C31972630".
"""

from __future__ import annotations

from dataclasses import dataclass

CONCEPT_MIN_SCORE = 0.3
OPENALEX = "https://openalex.org/"
SUBFIELDS = "https://openalex.org/subfields/"


@dataclass(frozen=True)
class FieldRule:
    field: str
    concepts: dict[str, str]  # OpenAlex concept id -> display name
    topics: dict[str, str]  # topic id -> display name
    subfields: dict[str, str]  # topic subfield id -> display name
    name_contains: tuple[str, ...] = ()  # lower-case text a keyword or topic display name contains


RULES: tuple[FieldRule, ...] = (
    FieldRule("cv", {"C31972630": "Computer vision"}, {}, {"1707": "Computer Vision and Pattern Recognition"}),
    FieldRule(
        "nlp",
        {"C204321447": "Natural language processing"},
        {"T10181": "Natural Language Processing Techniques", "T10028": "Topic Modeling"},
        {},
    ),
    FieldRule(
        "robotics",
        {"C34413123": "Robotics", "C90509273": "Robot"},
        {
            "T10191": "Robotics and Sensor-Based Localization",
            "T10586": "Robotic Path Planning Algorithms",
            "T10653": "Robot Manipulation and Learning",
            "T10462": "Reinforcement Learning in Robotics",
        },
        {},
    ),
    FieldRule("llm", {}, {}, {}, ("large language model",)),
    FieldRule(
        "ai",
        {
            "C154945302": "Artificial intelligence",
            "C119857082": "Machine learning",
            "C108583219": "Deep learning",
            "C50644808": "Artificial neural network",
        },
        {},
        {"1702": "Artificial Intelligence"},
    ),
)
SUB_FIELDS = tuple(rule.field for rule in RULES if rule.field != "ai")  # ai includes each of them
AI_FIELDS = tuple(rule.field for rule in RULES)
ALL_WORKS = "all"


def _ids(prefix: str, keys: dict[str, str]) -> list[str]:
    return sorted({f"{prefix}{k}" for k in keys} | set(keys))


# The rules as one value for queries/ingest/works.sql (the relation `field_rules`, one row, column
# `rules`), the same on DuckDB and Spark.
RULES_TYPE = (
    "STRUCT(field VARCHAR, concepts VARCHAR[], topics VARCHAR[], subfields VARCHAR[], name_contains VARCHAR[])[]"
)


def rules_value() -> list[dict]:
    """RULES as a list of records, ids in both spellings, for the relation `field_rules`."""
    return [
        {
            "field": rule.field,
            "concepts": _ids(OPENALEX, rule.concepts),
            "topics": _ids(OPENALEX, rule.topics),
            "subfields": _ids(SUBFIELDS, rule.subfields),
            "name_contains": list(rule.name_contains),
        }
        for rule in RULES
    ]


def fields_for(work: dict) -> set[str]:
    """The same mapping in plain Python, for one parsed work (tests and the generator use it)."""

    def short(value: object) -> str:
        text = value if isinstance(value, str) else ""
        return text.rsplit("/", 1)[-1]

    concepts = {
        short(c.get("id"))
        for c in work.get("concepts") or []
        if isinstance(c, dict) and isinstance(c.get("score"), (int, float)) and c["score"] >= CONCEPT_MIN_SCORE
    }
    topics = [t for t in work.get("topics") or [] if isinstance(t, dict)]
    topic_ids = {short(t.get("id")) for t in topics}
    subfields = {short((t.get("subfield") or {}).get("id")) for t in topics}
    names = [
        str(x.get("display_name") or "").lower()
        for x in [*topics, *(work.get("keywords") or [])]
        if isinstance(x, dict)
    ]
    found = set()
    for rule in RULES:
        if (
            concepts & set(rule.concepts)
            or topic_ids & set(rule.topics)
            or subfields & set(rule.subfields)
            or any(text in name for text in rule.name_contains for name in names)
        ):
            found.add(rule.field)
    if found:
        found.add("ai")
    return found
