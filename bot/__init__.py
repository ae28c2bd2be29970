"""collab: answers about cross-border AI research collaboration, from real ETO data."""

__version__ = "0.1.0"
