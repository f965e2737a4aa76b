"""Errors that reach the user as one clear line (and exit code 2), never a traceback."""


class InputError(Exception):
    """The case the user gave cannot be read or understood."""


class OutputError(Exception):
    """The requested output cannot be produced here (e.g. PDF without its system libraries)."""
