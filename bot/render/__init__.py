"""Renderers: a Result as a terminal table, JSON, CSV or Slack Block Kit. Pure functions."""
