"""State reasons worded as CloudWatch words them ("Threshold Crossed: 2 out of the last 3 ...").

The shape follows the reasons CloudWatch writes into ``StateReason`` and alarm-state-change
events, e.g. "Threshold Crossed: 3 out of the last 3 datapoints [20000.0 (08/11/22 11:25:00),
...] were greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)."
Values print as Java doubles (``20000.0``, ``1.0E7``) and times as ``dd/MM/yy HH:mm:ss`` UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from alarms.evaluate.missing_data import Period
from alarms.evaluate.model import AlarmStateValue, Comparison

_PHRASE = {
    Comparison.GREATER_THAN_OR_EQUAL: "greater than or equal to",
    Comparison.GREATER_THAN: "greater than",
    Comparison.LESS_THAN: "less than",
    Comparison.LESS_THAN_OR_EQUAL: "less than or equal to",
}


def java_double(value: float) -> str:
    """``Double.toString``: plain between 1e-3 and 1e7, else ``d.dddE±n``, shortest digits."""
    if value == 0:
        return "0.0"
    if 1e-3 <= abs(value) < 1e7:
        text = repr(float(value))
        return text if ("." in text or "e" in text) else f"{text}.0"
    _sign, digits, exponent = Decimal(repr(abs(float(value)))).normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = f"{digits[0]}.{''.join(map(str, digits[1:])) or '0'}"
    return f"{'-' if value < 0 else ''}{mantissa}E{exponent + len(digits) - 1}"


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%d/%m/%y %H:%M:%S")


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def threshold_reason(
    state: AlarmStateValue,
    comparison: Comparison,
    threshold: float,
    points: Sequence[tuple[datetime, float]],
    counted: int,
    n: int,
    m: int,
    filled: int = 0,
    filled_as: Period | None = None,
) -> str:
    """The reason for a threshold decision.

    ``points`` are the datapoints to list (most recent first): the breaching ones for ALARM,
    the non-breaching ones for OK. ``counted`` is how many of the last ``n`` count (filled
    missing ones included).
    """
    phrase = _PHRASE[comparison] if state is AlarmStateValue.ALARM else f"not {_PHRASE[comparison]}"
    listed = _listing(points)
    verb = "was" if counted == 1 else "were"
    if n == 1 and filled == 0:
        limit = java_double(threshold)
        head = f"Threshold Crossed: 1 datapoint{listed} {verb} {phrase} the threshold ({limit})."
    else:
        minimum = m if state is AlarmStateValue.ALARM else n - m + 1
        transition = "OK -> ALARM" if state is AlarmStateValue.ALARM else "ALARM -> OK"
        head = (
            f"Threshold Crossed: {counted} out of the last {n} datapoints{listed} {verb} {phrase} the "
            f"threshold ({java_double(threshold)}) (minimum {plural(minimum, 'datapoint')} for {transition} "
            "transition)."
        )
    if filled:
        sentence = missing_sentence(filled, filled_as)
        head += f" {sentence[0].upper()}{sentence[1:]}"
    return head


def _listing(points: Sequence[tuple[datetime, float]]) -> str:
    """`` [v (time), ...]``, or nothing when only filled-in missing datapoints counted."""
    if not points:
        return ""
    return " [" + ", ".join(f"{java_double(v)} ({stamp(t)})" for t, v in points) + "]"


def missing_sentence(filled: int, filled_as: Period | None) -> str:
    treated = "Breaching" if filled_as is Period.BREACHING else "NonBreaching"
    verb = "was" if filled == 1 else "were"
    periods, points = plural(filled, "period"), plural(filled, "missing datapoint")
    return f"no datapoints were received for {periods} and {points} {verb} treated as [{treated}]."


def all_missing_reason(filled: int, filled_as: Period | None) -> str:
    return f"Threshold Crossed: {missing_sentence(filled, filled_as)}"


def insufficient_reason(unknown: int) -> str:
    verb = "was" if unknown == 1 else "were"
    return f"Insufficient Data: {plural(unknown, 'datapoint')} {verb} unknown."


def premature_reason(
    comparison: Comparison, threshold: float, points: Sequence[tuple[datetime, float]]
) -> str:
    return (
        f"Threshold Crossed: {plural(len(points), 'datapoint')}{_listing(points)} "
        f"{'was' if len(points) == 1 else 'were'} {_PHRASE[comparison]} the threshold "
        f"({java_double(threshold)}) "
        "and no datapoints were received since; the oldest breaching datapoint is old enough to alarm "
        "(see 'Avoiding premature transitions to alarm state')."
    )


IGNORED_REASON = "Unchanged: no datapoints to evaluate and missing data is ignored (TreatMissingData=ignore)."
INITIAL_REASON = "Unchecked: Initial alarm creation"
