"""Package data for the wheel; everything else about the package is in pyproject.toml.

The shipped data and the reviewed SQL live in the top-level data/ and queries/ folders, the source of
truth a checkout reads directly. The wheel carries the same files as bot/_shipped/data and
bot/_shipped/queries (setuptools' package_dir maps those two packages onto the folders), which
bot/paths.py finds when collab runs from an installed copy.
"""

from setuptools import find_packages, setup

SHIPPED = {"bot._shipped.data": "data", "bot._shipped.queries": "queries"}

setup(
    packages=find_packages(include=["bot", "bot.*"]) + list(SHIPPED),
    package_dir=SHIPPED,
    package_data={
        "bot._shipped.data": ["**/*.csv", "**/*.md"],
        "bot._shipped.queries": ["*.sql", "ingest/*.sql"],
    },
)
