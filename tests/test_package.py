"""The package as a user gets it: a wheel built from this checkout, installed into a fresh virtual
environment, answering from an unrelated directory (so nothing can be found relative to the source).

The fresh environment's own site-packages holds only the wheel. Its dependencies (pandas, DuckDB,
matplotlib, …) are borrowed, read-only, from the environment running the tests through a .pth
line: installing them again would take minutes and test pip rather than this package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "--wheel-dir", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("collab-*.whl")
    return built


def test_the_wheel_carries_the_data_and_the_sql_but_no_database(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_data = {p.relative_to(ROOT / "data").as_posix() for p in (ROOT / "data").rglob("*.csv")}
    shipped_sql = {p.name for p in (ROOT / "queries").glob("*.sql")}
    assert {f"bot/_shipped/data/{name}" for name in shipped_data} <= names
    assert {f"bot/_shipped/queries/{name}" for name in shipped_sql} <= names
    assert "bot/_shipped/data/NOTICE.md" in names  # the licences travel with the data
    assert not [n for n in names if n.endswith((".duckdb", ".wal", ".lock", ".sqlite"))]


def test_an_installed_wheel_answers_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    borrowed = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    (Path(site_packages) / "borrowed-dependencies.pth").write_text("\n".join(borrowed) + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index"]
        + ["--ignore-installed", str(wheel)],  # the test environment's editable collab is not this one
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    work, home = tmp_path / "elsewhere", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COLLAB_", "VIRTUAL_ENV", "PYTHON")) and key != "DATABASE_URL"
    }
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    asked = subprocess.run(
        [str(venv / "bin" / "collab"), "ask", "partners Malaysia", "--format", "json"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["command"].startswith("partners")
    partners = [row[answer["columns"].index("partner")] for row in answer["rows"]]
    assert partners[0] == "China" and "Malaysia" not in partners
    # The database was built in the user's cache, not in site-packages or the working directory.
    assert (home / ".cache" / "collab" / "collab.duckdb").is_file()
    site = subprocess.run(
        [str(python), "-c", "import bot, pathlib; print(pathlib.Path(bot.__file__).parent)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert site.startswith(str(venv)) and not list(Path(site).rglob("*.duckdb"))
    assert list(work.iterdir()) == []
