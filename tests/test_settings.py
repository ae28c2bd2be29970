"""Settings: one reader of the environment, and a README table that lists every variable it reads."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.config import Settings, documented

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "bot" / "config.py"


def _environment_reads(path: Path) -> tuple[list[int], set[str]]:
    """Lines that touch os.environ / os.getenv / os.putenv, and the variable names read as literals."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines, names = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv", "environb"):
            lines.append(node.lineno)
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if any(alias.name in ("environ", "getenv", "environb") for alias in node.names):
                lines.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            inner = node.func.value
            reads_env = (isinstance(inner, ast.Attribute) and inner.attr == "environ") or node.func.attr == "getenv"
            if reads_env and node.args and isinstance(node.args[0], ast.Constant):
                names.add(str(node.args[0].value))
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "environ":
            if isinstance(node.slice, ast.Constant):
                names.add(str(node.slice.value))
    return lines, names


def _readme_table() -> dict[str, tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([A-Z][A-Z0-9_]*)` \| (.*?) \| (.*) \|$", line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


def _shown(default: object) -> str:
    if default == "":
        return "(empty)"
    return f"`{default:g}`" if isinstance(default, float) else f"`{default}`"


def test_only_bot_config_reads_the_environment() -> None:
    readers = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        lines, names = _environment_reads(path)
        if lines or names:
            readers[str(path.relative_to(ROOT))] = (lines, names)
    assert set(readers) == {"bot/config.py"}, readers


def test_every_variable_the_code_names_is_documented() -> None:
    """Also catches a literal variable name handed to os.environ anywhere, config.py included."""
    documented_names = {env for env, _, _ in documented()}
    named = set()
    for path in (ROOT / "bot").rglob("*.py"):
        named |= _environment_reads(path)[1]
    assert named <= documented_names, named - documented_names


def test_readme_table_lists_every_setting_with_its_default_and_meaning() -> None:
    table = _readme_table()
    expected = {env: (_shown(default), meaning) for env, default, meaning in documented()}
    assert table == expected


def test_every_field_names_a_distinct_variable() -> None:
    names = [env for env, _, _ in documented()]
    assert len(names) == len(set(names)) == len(Settings.__dataclass_fields__)


def test_from_env_parses_types_and_treats_empty_as_unset() -> None:
    settings = Settings.from_env({"PORT": "8080", "COLLAB_QUERY_SECONDS": "2.5", "COLLAB_MEMORY_LIMIT": ""})
    assert (settings.port, settings.query_seconds, settings.memory_limit) == (8080, 2.5, "1GB")
    assert Settings.from_env({}) == Settings()


def test_a_set_but_empty_access_log_means_none() -> None:
    assert Settings.from_env({}).access_log == "-"
    assert Settings.from_env({"COLLAB_ACCESS_LOG": ""}).access_log == ""
    assert Settings.from_env({"COLLAB_ACCESS_LOG": "/var/log/collab.log"}).access_log == "/var/log/collab.log"


def test_admins_are_a_set_of_user_ids() -> None:
    assert Settings.from_env({"COLLAB_ADMINS": " U01, U02 ,,U01"}).admin_ids == frozenset({"U01", "U02"})
    assert Settings().admin_ids == frozenset()


def test_a_malformed_value_names_the_variable() -> None:
    with pytest.raises(ValueError, match="PORT='abc' is not a valid int"):
        Settings.from_env({"PORT": "abc"})


def test_the_cli_refuses_a_malformed_value_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from bot.cli import main

    monkeypatch.setenv("COLLAB_DIGEST_MAX_ATTEMPTS", "three")
    assert main(["ask", "about"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("collab: COLLAB_DIGEST_MAX_ATTEMPTS='three' is not a valid int") and "Traceback" not in err


@pytest.mark.parametrize("value", ["abc", "0", "4096", "4gb", "64m", "511m", "0g"])
def test_a_spark_driver_memory_spark_cannot_start_on_is_refused(value: str) -> None:
    what = "too small" if value[-1] in "mg" else "not a JVM memory size"
    with pytest.raises(ValueError, match=rf"COLLAB_SPARK_DRIVER_MEMORY='{value}' is {what}.*write it like 4g.*512m"):
        Settings.from_env({"COLLAB_SPARK_DRIVER_MEMORY": value})
    for fine in ("512m", "4g", "8192M", "1T"):
        assert Settings.from_env({"COLLAB_SPARK_DRIVER_MEMORY": fine}).spark_driver_memory == fine


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("COLLAB_MEMORY_LIMIT", "garbage"),  # DuckDB would fail every query, and each `ask` would rebuild
        ("COLLAB_SQL_MEMORY_LIMIT", "128"),
        ("COLLAB_INGEST_MEMORY", "1 gigabyte"),
        ("COLLAB_SQL_WORKERS", "0"),
        ("COLLAB_QUERY_SECONDS", "-1"),
        ("COLLAB_SQL_KILL_SECONDS", "0"),
        ("COLLAB_SQL_ADDRESS_SPACE_MB", "100"),  # a worker can't even start: the pool retried forever
        ("COLLAB_QUERY_SECONDS", "inf"),  # the watchdog thread died on it: no time limit at all
        ("COLLAB_QUERY_SECONDS", "nan"),
        ("COLLAB_MEMORY_LIMIT", "1KB"),  # DuckDB can't open the database with it
    ],
)
def test_a_value_collab_cannot_run_with_is_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ValueError, match=variable):
        Settings.from_env({variable: value})


@pytest.mark.parametrize("value", ["1GB", "512MB", "2GiB", "1.5GB", "100 MB"])
def test_duckdb_memory_sizes_are_accepted(value: str) -> None:
    assert Settings.from_env({"COLLAB_MEMORY_LIMIT": value}).memory_limit == value
