"""A cursor over the pattern text, shared by the parsers so every error knows its position."""

from __future__ import annotations

from typing import NoReturn

from alarms.patterns.errors import PatternSyntaxError

#: Characters that end an unquoted word inside JSON and space-delimited patterns.
WORD_STOP = frozenset(' \t\r\n()&|!=<>,"%[]{}')


class Scanner:
    """Reads ``text`` left to right; ``offset`` maps positions back into the whole pattern."""

    def __init__(self, text: str, pattern: str, offset: int = 0) -> None:
        self.text = text
        self.pattern = pattern
        self.offset = offset
        self.pos = 0
        #: Counted while parsing, for AWS's quotas (2 regexes, 3 wildcard selectors a pattern).
        self.regex_count = 0
        self.wildcard_selector_count = 0

    # -- looking -----------------------------------------------------------------------------

    def at_end(self) -> bool:
        self.skip_ws()
        return self.pos >= len(self.text)

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def startswith(self, s: str) -> bool:
        self.skip_ws()
        return self.text.startswith(s, self.pos)

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    # -- consuming ---------------------------------------------------------------------------

    def accept(self, s: str) -> bool:
        """Consume ``s`` (after whitespace) when it comes next; say whether it did."""
        if self.startswith(s):
            self.pos += len(s)
            return True
        return False

    def expect(self, s: str, what: str) -> None:
        if not self.accept(s):
            self.fail(f"expected {what}")

    def accept_keyword(self, word: str) -> bool:
        """Consume ``word`` only as a whole word (``IS`` must not eat the start of ``ISSUE``)."""
        self.skip_ws()
        end = self.pos + len(word)
        if self.text.startswith(word, self.pos) and (end >= len(self.text) or self.text[end] in WORD_STOP):
            self.pos = end
            return True
        return False

    def read_word(self) -> str:
        """An unquoted run of characters up to whitespace or an operator character."""
        self.skip_ws()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in WORD_STOP:
            self.pos += 1
        return self.text[start : self.pos]

    def read_quoted(self) -> str:
        """A double-quoted string starting at the cursor; ``\\"`` and ``\\\\`` are escapes."""
        self.skip_ws()
        start = self.pos
        if self.peek() != '"':
            self.fail("expected a double-quoted string")
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] in '"\\':
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if ch == '"':
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        self.fail("unterminated double-quoted string", at=start)

    def read_delimited(self, delimiter: str, what: str) -> str:
        """Text between the delimiter at the cursor and the next one (for ``%regex%``)."""
        self.skip_ws()
        start = self.pos
        self.pos += 1
        end = self.text.find(delimiter, self.pos)
        if end < 0:
            self.fail(f"unterminated {what}: no closing {delimiter!r}", at=start)
        body = self.text[self.pos : end]
        self.pos = end + 1
        return body

    # -- errors ------------------------------------------------------------------------------

    def here(self) -> int:
        """The cursor as a position in the whole pattern."""
        return self.offset + self.pos

    def fail(self, message: str, at: int | None = None) -> NoReturn:
        local = self.pos if at is None else at
        raise PatternSyntaxError(message, self.pattern, self.offset + local)
