"""The one error the local stack raises: a component that could not be started or reached."""


class StackError(RuntimeError):
    """A local stack component failed; the message names it, says why and where to look."""
