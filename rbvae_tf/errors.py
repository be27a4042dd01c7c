"""The one exception type that the CLI turns into a one-line message and exit status 2."""


class UserError(Exception):
    """Bad input from the user: a missing file, a wrong size, an unreadable image.

    The CLI prints `error: <message>` on stderr and exits with status 2, never a traceback.
    Library callers can catch it like any other exception.
    """


class TrainingDiverged(Exception):
    """The loss became NaN or infinite; the run directory keeps the last finished epoch (exit 1)."""
