"""Errors a user can cause, each with a message that says what is wrong and how to fix it.

The command line turns every :class:`HotleadsError` into a one-line ``error: ...`` and exit
status 2; anything else is a bug and keeps its traceback.
"""


class HotleadsError(Exception):
    """Base class of the errors caused by input, not by hotleads itself."""


class DataError(HotleadsError, ValueError):
    """A table cannot be used as given (missing file, wrong columns, bad values)."""


class BundleError(HotleadsError, ValueError):
    """A model directory is missing, corrupt, foreign or from an incompatible version."""


class ParameterError(HotleadsError, ValueError):
    """An option has a value hotleads cannot work with."""


class HotleadsWarning(UserWarning):
    """Base class of hotleads' own warnings: the command line prints these as ``warning: ...``."""


class DataWarning(HotleadsWarning):
    """Something in a table was handled rather than refused (extra columns, unseen categories, an encoding guessed)."""


class ReadingWarning(DataWarning):
    """How a table was read where it could be read another way (a title line skipped above the header): the command line
    prints it even when the command then fails, before the error, which may follow from that reading."""
