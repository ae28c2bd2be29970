"""The `collab` command: a thin layer over the library. Imports what a command needs, when it needs it.

The environment is read here, once, into bot.config.Settings, which is passed to whatever needs it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.config import Settings

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="collab", description="Cross-border AI research collaboration, from ETO's data."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build the DuckDB database from data/ (COLLAB_DB)")
    build.add_argument("--db", type=Path, help="where to write the database (default: COLLAB_DB or data/collab.duckdb)")

    ingest = commands.add_parser("ingest", help="add paper-level data to the database (COLLAB_DB)")
    sources = ingest.add_subparsers(dest="ingest_source", required=True, metavar="SOURCE")
    openalex = sources.add_parser(
        "openalex", help="OpenAlex works: JSON Lines files (plain or .gz) or folders of them (snapshot layout)"
    )
    openalex.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="works files or folders (recursive); with --engine spark also s3a://, hdfs:// or abfss:// URLs",
    )
    openalex.add_argument(
        "--all-works",
        action="store_true",
        help="keep every work under the field `all` (plus its AI fields), not only AI works",
    )
    openalex.add_argument(
        "--strict", action="store_true", help="fail on the first malformed line or work, leaving the database unchanged"
    )
    openalex.add_argument(
        "--db", type=Path, help="the database to ingest into (default: COLLAB_DB or data/collab.duckdb)"
    )
    openalex.add_argument("--no-progress", action="store_true", help="no progress bar")
    openalex.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="duckdb (default): this machine; spark: Apache Spark (pip install -e '.[spark]'), same SQL",
    )
    openalex.add_argument(
        "--master", metavar="URL", help="with --engine spark: the Spark master (default: spark-submit's, else local[*])"
    )
    openalex.add_argument(
        "--out",
        metavar="DIR",
        help="with --engine spark: write the Parquet tables and manifest there (local, s3a://, hdfs://, abfss://) "
        "and load nothing; without it, load them into the database",
    )
    parquet = sources.add_parser(
        "parquet", help="load a directory written by `ingest openalex --engine spark --out DIR` into the database"
    )
    parquet.add_argument(
        "directory", type=Path, metavar="DIR", help="the directory (manifest.json and Parquet folders)"
    )
    parquet.add_argument("--db", type=Path, help="the database to load into (default: COLLAB_DB or data/collab.duckdb)")

    ask = commands.add_parser("ask", help='answer a command, e.g. collab ask "partners Malaysia"')
    ask.add_argument("text", nargs="+", help="the command text, as typed after /collab")
    ask.add_argument("--format", choices=("text", "json", "csv"), default="text")
    ask.add_argument("--chart", type=Path, metavar="PATH", help="also write the chart as a PNG")

    serve = commands.add_parser("serve", help="run the Slack app over HTTP (or Socket Mode)")
    serve.add_argument("--port", type=int, help="the HTTP port (default: PORT, else 3000)")
    serve.add_argument("--socket", action="store_true", help="use Socket Mode with SLACK_APP_TOKEN")

    commands.add_parser("worker", help="run the digest scheduler")
    digest = commands.add_parser("digest", help="digest jobs")
    digest_commands = digest.add_subparsers(dest="digest_command", required=True, metavar="JOB")
    run_due = digest_commands.add_parser("run-due", help="post every digest that is due, once, and exit")
    run_due.add_argument("--now", help="the time to act as now (ISO-8601), for tests and catch-up")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from bot.errors import UserError

    try:
        settings = Settings.from_env()
    except ValueError as error:
        print(f"collab: {error}. Fix or unset it (the README's settings table lists each one).", file=sys.stderr)
        return EXIT_USAGE
    try:
        return _dispatch(args, settings)
    except UserError as error:
        print(f"collab: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug: say so in one line, never a traceback
        print(
            f"collab: something went wrong inside collab ({type(error).__name__}: {error}). "
            "Please report it with the command you ran.",
            file=sys.stderr,
        )
        return 1


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.paths import database_path

    if args.command == "build":
        from bot.data.build import BuildError, build

        try:
            build(args.db or database_path(settings))
        except BuildError as error:
            print(f"collab build failed: {error}", file=sys.stderr)
            return 1
        return 0
    if args.command == "ingest":
        return _ingest(args, settings)
    if args.command == "ask":
        return _ask(" ".join(args.text), args.format, args.chart, settings)
    if args.command == "serve":
        from bot.slack.server import serve

        serve(settings, args.port, socket_mode=args.socket)
        return 0
    if args.command == "worker":
        from bot.digest import run_worker

        run_worker(settings)
        return 0
    if args.command == "digest":
        from bot.digest import run_due_command

        return run_due_command(args.now, settings)
    raise AssertionError(args.command)


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.data.build import BuildError, ensure_built
    from bot.data.ingest import IngestError
    from bot.data.ingest.spark import SparkUnavailable
    from bot.paths import database_path

    def log(line: str) -> None:
        print(line, file=sys.stderr)

    spark = args.ingest_source == "openalex" and args.engine == "spark"
    if args.ingest_source == "openalex" and not spark:
        if args.master or args.out:
            print("collab: --master and --out go with --engine spark.", file=sys.stderr)
            return EXIT_USAGE
        if urls := [p for p in args.paths if "://" in p]:
            print(
                f"collab: {urls[0]} is a URL; the duckdb engine reads local files, --engine spark reads URLs.",
                file=sys.stderr,
            )
            return EXIT_USAGE
    path = args.db or database_path(settings)
    try:
        if not (spark and args.out):  # papers are added to the ETO data; --out writes Parquet only
            ensure_built(path, log=log, memory_limit=settings.memory_limit)
    except BuildError as error:
        print(f"collab build failed: {error}", file=sys.stderr)
        return 1
    try:
        if args.ingest_source == "parquet":
            from bot.data.ingest.parquet import load_parquet

            report = load_parquet(args.directory, path, memory_limit=settings.ingest_memory, log=log)
        elif spark:
            from bot.data.ingest.spark import ingest_with_spark

            report = ingest_with_spark(
                args.paths,
                path,
                memory_limit=settings.ingest_memory,
                driver_memory=settings.spark_driver_memory,
                master=args.master,
                out=args.out,
                all_works=args.all_works,
                strict=args.strict,
                log=log,
            )
        else:
            from bot.data.ingest import ingest_openalex

            report = ingest_openalex(
                [Path(p) for p in args.paths],
                path,
                memory_limit=settings.ingest_memory,
                all_works=args.all_works,
                strict=args.strict,
                progress=not args.no_progress and sys.stderr.isatty(),
                log=log,
            )
    except SparkUnavailable as error:
        print(f"collab: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    except IngestError as error:
        print(f"collab ingest failed: {error.message}", file=sys.stderr)
        return 1
    for line in report.summary():
        print(line, file=sys.stderr)
    return 0


def _ask(text: str, output: str, chart: Path | None, settings: Settings) -> int:
    from bot.data.build import ensure_built
    from bot.engine.answer import answer
    from bot.engine.db import Database
    from bot.errors import UserError
    from bot.paths import database_path

    if chart is not None:
        _check_writable(chart)  # before answering: a chart that can't be written is said at once
    ensure_built(
        database_path(settings), log=lambda line: print(line, file=sys.stderr), memory_limit=settings.memory_limit
    )
    result = answer(text, Database.from_settings(settings))
    if result.read_as and output != "text":
        print(result.read_as, file=sys.stderr)  # the CSV or JSON on stdout stays machine-readable
    if output == "json":
        from bot.render.data import to_json

        sys.stdout.write(to_json(result) + "\n")
    elif output == "csv":
        from bot.render.data import to_csv

        sys.stdout.write(to_csv(result))
        # the summary (which says when a country is absent) and the caveats travel with the data,
        # outside it: the CSV stays clean
        if result.summary:
            print(result.summary, file=sys.stderr)
        if result.notes:
            print(result.notes_text(), file=sys.stderr)
    else:
        from bot.render.text import render_text

        sys.stdout.write(render_text(result))
    if chart is not None:
        if result.chart is None:  # the answer above stands; only the picture is missing
            print(
                f"collab: `{result.command}` answers have no chart, so nothing was written to {chart}.", file=sys.stderr
            )
            return 0
        from bot.render.charts import write_png

        try:
            write_png(result, chart)
        except OSError as error:
            raise UserError(f"I can't write the chart to {chart} ({error.strerror or error}).") from error
        print(f"chart written to {chart}", file=sys.stderr)
    return 0


def _check_writable(chart: Path) -> None:
    from bot.errors import UserError

    folder = chart.parent
    if not folder.is_dir():
        raise UserError(
            f"I can't write the chart to {chart}: the directory {folder} doesn't exist. Create it or pick another path."
        )
    if chart.is_dir():
        raise UserError(
            f"I can't write the chart to {chart}: it is a directory. Give a file name, e.g. {chart / 'chart.png'}."
        )
    if not os.access(folder, os.W_OK):
        raise UserError(f"I can't write the chart to {chart}: the directory {folder} can't be written to.")


if __name__ == "__main__":
    sys.exit(main())
