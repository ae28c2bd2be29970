"""The plain-English interpreter: text (and a thread's last Query) -> Reading, with no model and no network."""

from bot.engine.interpret.canonical import canonical
from bot.engine.interpret.reading import Reading, read, read_as_line

__all__ = ["Reading", "canonical", "read", "read_as_line"]
