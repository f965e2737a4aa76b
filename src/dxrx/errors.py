"""Errors that reach the user as one clear line (and exit code 2), never a traceback."""


class InputError(Exception):
    """The case the user gave cannot be read or understood."""
