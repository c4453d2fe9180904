"""Errors a user can cause, each with a message that says what is wrong and how to fix it.

The command line turns every :class:`HotleadsError` into a one-line ``error: ...`` and exit
status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Callable


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


class CountedWarning(DataWarning):
    """A :class:`DataWarning` that counts rows of a table by value (``'Warm' (7 rows)``): its message is ``words(counts)``.

    A table scored in parts (Dask partitions) gives one per part, each with its part's counts;
    :meth:`plus` adds them up, so that the whole table gets the one warning, with the counts it
    gets when read whole. ``words`` must pickle and compare equal for the same warning about the
    same table (a frozen dataclass does both), so that parts warned in other processes add up.
    """

    def __init__(self, words: Callable[[dict[str, int]], str], counts: dict[str, int]) -> None:
        self.words, self.counts = words, dict(counts)
        super().__init__(words(self.counts))

    def __reduce__(self):  # rebuilt from its parts where it arrives (a Dask client), not from its message as a warning would be
        return type(self), (self.words, self.counts)

    def plus(self, other: CountedWarning) -> CountedWarning:
        """This warning with ``other``'s counts added: ``other`` is the same warning about another part of the table."""
        counts = dict(self.counts)
        for value, rows in other.counts.items():
            counts[value] = counts.get(value, 0) + rows
        return type(self)(self.words, counts)
