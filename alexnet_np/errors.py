"""The one exception type for user mistakes.

The command line catches :class:`UserError` and prints its message as one line, with a non-zero
exit status and no traceback. Anything else that escapes is a bug in alexnet-np.
"""


class UserError(Exception):
    """A mistake the user can fix: a bad path, an unknown preset, a damaged checkpoint..."""
