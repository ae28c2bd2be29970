"""Package data for the wheel; everything else about the package is in pyproject.toml.

The shipped data and the reviewed SQL live in the top-level data/ and queries/ folders, the source of
truth a checkout reads directly. The wheel carries the same files as bot/_shipped/data and
bot/_shipped/queries (setuptools' package_dir maps those packages onto the folders), which
bot/paths.py finds when collab runs from an installed copy.
"""

from pathlib import Path

from setuptools import find_packages, setup

SOURCES = {"bot._shipped.data": "data", "bot._shipped.queries": "queries"}
SHIPPED_FILES = ("*.csv", "*.md", "*.sql")  # never the built database, its locks or temporary files


def shipped() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Packages (name -> folder) and their files. A folder Python could import (data/eto) is a
    package of its own, as setuptools wants; a folder it couldn't (cross-border) belongs to its parent."""
    folders: dict[str, str] = {}
    files: dict[str, list[str]] = {}
    for root, top in SOURCES.items():
        for folder in [Path(top), *sorted(p for p in Path(top).rglob("*") if p.is_dir())]:
            parts = folder.relative_to(top).parts
            if not all(part.isidentifier() for part in parts):
                continue
            name = ".".join((root, *parts))
            folders[name] = folder.as_posix()
            files[name] = list(SHIPPED_FILES)
            for child in folder.iterdir():
                if child.is_dir() and not child.name.isidentifier():
                    files[name] += [f"{child.name}/**/{pattern}" for pattern in SHIPPED_FILES]
    return folders, files


folders, files = shipped()
setup(
    packages=find_packages(include=["bot", "bot.*"]) + list(folders),
    package_dir=folders,
    package_data=files,
)
