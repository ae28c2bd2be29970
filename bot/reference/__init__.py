"""Reference tables: countries, groups, fields, and how they read in a sentence."""
