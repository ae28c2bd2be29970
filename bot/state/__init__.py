"""State in the SQL database (SQLite or PostgreSQL): subscriptions, claims, handled requests."""
