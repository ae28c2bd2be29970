"""The engine: command text -> Query -> validated SQL over the sandboxed DuckDB -> Result."""
