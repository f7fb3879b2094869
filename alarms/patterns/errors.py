"""The one error a bad filter pattern raises, pointing at where it went wrong."""

from __future__ import annotations


class PatternSyntaxError(ValueError):
    """A filter pattern CloudWatch Logs would reject (``InvalidParameterException`` there).

    ``position`` is the 0-based offset into ``pattern`` where the problem is; ``str(err)``
    shows the message, the pattern and a caret under that offset, so a person at a terminal
    sees at once which character to fix.
    """

    def __init__(self, message: str, pattern: str, position: int) -> None:
        self.message = message
        self.pattern = pattern
        self.position = max(0, min(position, len(pattern)))
        super().__init__(self._render())

    def _render(self) -> str:
        # Show the pattern on one line: newlines/tabs would break the caret's alignment.
        shown = self.pattern.replace("\n", " ").replace("\t", " ").replace("\r", " ")
        return f"{self.message} (at position {self.position})\n  {shown}\n  {' ' * self.position}^"
