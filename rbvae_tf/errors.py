"""The two exception types that the CLI turns into one line `error: ...` on stderr, never a traceback:
`UserError` (bad input, exit status 2) and `TrainingDiverged` (exit status 1)."""


class UserError(ValueError):
    """Bad input from the user: a missing file, a wrong size, an unreadable image, an unknown model.

    The CLI prints `error: <message>` on stderr and exits with status 2. It is a `ValueError`, so
    library callers can catch it as one.
    """


class TrainingDiverged(Exception):
    """The loss became NaN or infinite; the run directory keeps the last finished epoch (exit 1)."""
