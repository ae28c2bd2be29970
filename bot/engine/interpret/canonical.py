"""Query -> the exact command text that parses back to it: what "Read as `…`" shows and buttons send."""

from __future__ import annotations

from functools import lru_cache

from bot.engine import commands, question
from bot.engine.question import DEFAULT_LIMIT, Query
from bot.errors import UserError
from bot.reference import countries as country_ref
from bot.reference import fields as field_ref


@lru_cache(maxsize=512)
def country_words(code: str) -> str:
    """A country as people write it (its name), or its ISO code where the name would not parse back."""
    name = country_ref.all_countries()[code].name
    # Long names, commas, or option words ("in", "to") inside a name don't survive the parser.
    try:
        parsed = commands.parse(f"profile {name}")
    except UserError:
        return code
    return name if parsed.countries == (code,) else code


@lru_cache(maxsize=64)
def group_words(code: str) -> str:
    """A group by its shortest readable name that resolves back to it."""
    group = country_ref.all_groups()[code]
    candidates = [group.name, code.replace("_", "-"), code.replace("_", " "), *group.aliases]
    for text in candidates:
        if len(text) > 16 or any(word in commands.OPTION_KEYWORDS for word in text.lower().split()):
            continue
        found = country_ref.find_group(text)
        if found is not None and found.code == code:
            return text.upper() if text == code and len(text) <= 5 else text  # gcc -> GCC
    return code


def field_words(code: str) -> str:
    return code if field_ref.find_field(code) is not None else field_ref.all_fields()[code].name


def canonical(query: Query) -> str:
    """The canonical command for `query`; `commands.parse(canonical(q))` gives `q` back (text aside)."""
    verb = query.verb
    if verb == "sql":
        return f"sql {query.sql}"
    if verb == "help":
        return f"help {query.topic}".strip()
    parts = [verb]
    if verb == "top":
        if query.limit != DEFAULT_LIMIT:
            parts.append(str(query.limit))
        if query.group:
            parts.append(group_words(query.group))
    # a subject is a country, or a group's code where a group is the subject (`partners asean`)
    parts.extend(group_words(code) if question.is_group(code) else country_words(code) for code in query.countries)
    if query.field != field_ref.DEFAULT_FIELD:
        parts.append(f"in {field_words(query.field)}")
    if query.year_from is not None and query.year_from == query.year_to:
        parts.append(f"in {query.year_from}")
    elif query.year_from is not None and query.year_to is not None:
        parts.append(f"{query.year_from}-{query.year_to}")
    elif query.year_from is not None:
        parts.append(f"since {query.year_from}")
    elif query.year_to is not None:
        parts.append(f"to {query.year_to}")
    if query.complete_only:
        parts.append("complete")
    if query.group and verb != "top":
        parts.append(f"among {group_words(query.group)}")
    if query.between:
        parts.append(f"between {group_words(query.between[0])} and {group_words(query.between[1])}")
    if query.metric != "joint":
        parts.append(f"by {query.metric}")
    if query.limit != DEFAULT_LIMIT and verb != "top":
        parts.append(f"top {query.limit}")
    if query.count != "full":
        parts.append(f"count {query.count}")
    if query.source:
        parts.append(f"source {query.source}")
    if query.public:
        parts.append("public")
    return " ".join(parts)
