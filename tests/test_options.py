"""Every verb against every option: an option a verb accepts changes the answer and is named in its
title or notes; an option it can't honour is refused (exit 2) with a sentence saying why and what works.

The database here holds the real ETO data plus OpenAlex-shaped works drawn from ETO's own AI pair
frequencies (bench/gen_openalex.py, fixed seed), so `source openalex` and `count fractional` have
paper-level data to change an answer with.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bot.engine.answer import answer
from bot.engine.question import OPTION_NAMES, VERB_OPTIONS, VERBS
from bot.errors import UserError

ROOT = Path(__file__).resolve().parents[1]

# verb -> the command without options (the baseline)
BASE = {
    "partners": "partners Malaysia",
    "top": "top",
    "pairs": "pairs",
    "pair": "pair China USA",
    "compare": "compare China India",
    "fields": "fields Malaysia",
    "rising": "rising China",
    "profile": "profile Saudi Arabia",
    "about": "about",
    "help": "help",
}
# option -> (words added to the command, words one of which the title or notes must then contain)
OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "field": ("in robotics", ("robotics",)),
    "years": ("2018-2022", ("2018–2022",)),
    "complete": ("complete", ("complete years only",)),
    "limit": ("limit 3", ("top 3", "Top 3")),
    "metric": ("by {metric}", ("by affinity", "Ranked by affinity", "per article", "links per article")),
    "among": ("among asean", ("ASEAN",)),
    "between": ("between asean and eu", ("between ASEAN and the European Union",)),
    "count": ("count fractional source openalex", ("Fractional count",)),
    "source": ("source openalex", ("OpenAlex",)),
}
# the non-default ranking each verb takes (a verb that ranks one way only gets `by share`, to refuse)
METRIC = {"partners": "affinity", "pairs": "affinity", "top": "share", "compare": "share"}
# the baseline for `count fractional`: the same source, whole counts
COUNT_BASE = "source openalex"


@pytest.fixture(scope="module")
def paper_db(tmp_path_factory, db_path):
    """The real build plus 4,000 generated OpenAlex-shaped AI works, ingested like `collab ingest openalex`."""
    from bot.data.build import build
    from bot.data.ingest import ingest_openalex
    from bot.engine.db import Database

    spec = importlib.util.spec_from_file_location("gen_openalex", ROOT / "bench" / "gen_openalex.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    work = tmp_path_factory.mktemp("options")
    works = gen.generate(work / "works.jsonl", works=4000, seed=11, db_path=db_path)
    path = work / "collab.duckdb"
    build(path, log=lambda line: None)
    ingest_openalex([works], path, all_works=False, strict=True, progress=False, log=lambda line: None)
    database = Database(path)
    yield database
    database.close()


def _text(verb: str, option: str) -> str:
    words, _ = OPTIONS[option]
    return f"{BASE[verb]} {words.format(metric=METRIC.get(verb, 'share'))}"


def _said(result) -> str:
    return " ".join([result.title, result.summary, *result.notes])


CASES = [(verb, option) for verb in BASE for option in OPTION_NAMES]


@pytest.mark.parametrize("verb,option", CASES, ids=[f"{v}-{o}" for v, o in CASES])
def test_every_option_is_applied_and_named_or_refused_with_what_works(paper_db, verb, option):
    text = _text(verb, option)
    if option not in VERB_OPTIONS[verb] or (option == "metric" and verb not in METRIC):
        with pytest.raises(UserError) as refused:
            answer(text, paper_db)
        message = refused.value.message
        assert "`" in message and len(message) > 40, message  # a sentence that names a command or option
        assert any(w in message for w in ("try", "Try", "drop", "e.g.", "instead")), message
        return
    result = answer(text, paper_db)
    baseline = answer(f"{BASE[verb]} {COUNT_BASE}" if option == "count" else BASE[verb], paper_db)
    changed = result.title != baseline.title or not result.frame.equals(baseline.frame)
    assert changed, f"`{text}` gave the same answer as without the option"
    _, named = OPTIONS[option]
    assert any(word in _said(result) for word in named), (text, result.title, result.notes)


def test_every_verb_and_option_is_covered():
    assert set(BASE) | {"sql"} == set(VERBS)
    assert set(OPTIONS) == set(OPTION_NAMES)


@pytest.mark.parametrize("option", OPTION_NAMES)
def test_sql_takes_its_statement_as_typed(paper_db, option):
    # Words after `sql` are the statement: the validator refuses them, or the SQL itself applies them.
    words, _ = OPTIONS[option]
    try:
        result = answer(f"sql SELECT 1 AS one {words.format(metric='share')}", paper_db)
    except UserError as refused:
        assert "SQL" in refused.message
    else:
        assert words.upper() in result.sql and len(result.frame) == 1


def test_a_refusal_exits_2_from_the_command_line(db_path, capsys, monkeypatch):
    import bot.data.build
    from bot.cli import main

    monkeypatch.setattr(bot.data.build, "is_stale", lambda *args: False)
    assert main(["ask", "pair China USA among gcc"]) == 2
    err = capsys.readouterr().err
    assert "`pair` can't use `among <group>`" in err and "pairs among gcc" in err


def test_public_is_delivery_not_an_answer_option(paper_db):
    # `public` says where the answer goes (the channel), so it leaves the answer itself alone.
    shown, posted = answer("partners Malaysia", paper_db), answer("partners Malaysia public", paper_db)
    assert shown.title == posted.title and shown.frame.equals(posted.frame)


@pytest.mark.parametrize("text", ["top 10 among asean among eu", "top asean among eu", "pair China USA among gcc"])
def test_a_refused_command_is_not_reread_as_another_question(paper_db, text):
    # Plain-English reading must not turn a refused option into a different, silently narrower answer.
    from bot.errors import OptionRefused

    with pytest.raises(OptionRefused):
        answer(text, paper_db)
