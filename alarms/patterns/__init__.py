"""CloudWatch Logs filter patterns, evaluated locally exactly as documented.

>>> p = compile_pattern('{ $.level = "ERROR" }')
>>> p.matches('{"level": "ERROR", "message": "boom"}')
True
"""

from alarms.patterns.api import FilterPattern, Match, compile_pattern
from alarms.patterns.ast import PatternKind
from alarms.patterns.errors import PatternSyntaxError

__all__ = ["FilterPattern", "Match", "PatternKind", "PatternSyntaxError", "compile_pattern"]
