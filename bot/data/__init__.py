"""Sources -> DuckDB: the ETO build and paper-level ingest."""
