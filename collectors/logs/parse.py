"""CloudWatch Logs events -> rows: pure, so that it can be tested line by line and timed alone.

Every event becomes a ``LogRow``; nothing is dropped. A line in the log-line contract
(``sagawatch.contracts.logline``) has its fields lifted into columns; Lambda's platform lines
(``START``/``END``/``REPORT``, timeouts, the runtime's ``[LEVEL]`` prefix) get their request id
and, for ``REPORT``, an ``InvocationRow``; EMF blobs are checked for shape (``collectors.logs.emf``).
What breaks a rule comes back as a ``ParseProblem`` beside the row, for ``collector_errors``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple

from collectors.logs.emf import EmfShapeError, check_emf
from sagawatch.contracts.logline import REQUIRED_LOG_FIELDS

LAMBDA_GROUP_PREFIX = "/aws/lambda/"

#: Lambda's stream names: ``2026/11/24/[$LATEST]0123abcd`` or ``2026/11/24/[7]0123abcd``.
_STREAM_VERSION = re.compile(r"\[([^\]]+)\]")
_PLATFORM = re.compile(r"^(START|END|REPORT) RequestId: ([0-9A-Za-z-]+)")
_TIMEOUT = re.compile(r"^\S+ ([0-9A-Za-z-]+) Task timed out after")
#: Lambda's default handler for plain ``logging``/print-with-prefix: ``[LEVEL]\ttime\trequest-id\tmessage``.
#: Tab-separated: ``[ERROR] InjectedDefect: boom`` is not one (its "request id" would be "boom").
_ROOT_HANDLER = re.compile(
    r"^\[(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\]\t[^\t]+\t([0-9A-Za-z-]{8,})\t(.*)$", re.DOTALL
)
#: The runtime's line for an exception the handler let escape: ``[ERROR] KeyError: 'x'`` and the traceback.
_UNHANDLED = re.compile(r"^\[ERROR\] ([A-Za-z_][\w.]*): ?([^\n]*)")
_REQUIRED = frozenset(REQUIRED_LOG_FIELDS)
#: Contract keys lifted into columns, in the order ``_parse_json`` unpacks them.
_JSON_KEYS = (
    "function_name", "function_version", "level", "function_request_id", "correlation_id",
    "saga_id", "saga_type", "saga_step", "trace_id", "span_id", "error_code", "message",
)  # fmt: skip
_PLAIN_TYPES = frozenset({str, type(None)})
_INT4_MIN, _INT4_MAX = -(2**31), 2**31 - 1
#: The C scanner behind ``json.loads``, called directly: ``loads`` adds two whitespace regex matches
#: and a type check per call, about a third of its cost on a typical contract line.
_SCAN_ONCE: Callable[[str, int], tuple[object, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


class LogRow(NamedTuple):
    """One ``log_lines`` row, in column order (``LOG_COLUMNS``): COPY writes the tuple as it is.

    Rows are NamedTuples rather than dataclasses because building them is the hot path of ingestion.
    """

    ts: datetime
    log_group: str
    log_stream: str
    seq: int
    kind: str  # json | platform | text | emf
    function_name: str | None
    function_version: str | None
    level: str | None
    request_id: str | None
    correlation_id: str | None
    saga_id: str | None
    saga_type: str | None
    saga_step: str | None
    trace_id: str | None
    span_id: str | None
    error_code: str | None
    message: str | None
    raw: str


LOG_COLUMNS: tuple[str, ...] = LogRow._fields
#: PostgreSQL types of ``LOG_COLUMNS``, for binary COPY (collectors/schema/0003_audit_store.sql).
LOG_TYPES: tuple[str, ...] = ("timestamptz", "text", "text", "int8", *["text"] * 14)


class InvocationRow(NamedTuple):
    """One ``invocations`` row, from a ``REPORT`` line."""

    ts: datetime
    log_group: str
    log_stream: str
    seq: int
    function_name: str | None
    function_version: str | None
    request_id: str
    duration_ms: float | None
    billed_ms: float | None
    memory_mb: int | None
    max_memory_mb: int | None
    init_ms: float | None
    status: str | None
    error_type: str | None


INVOCATION_COLUMNS: tuple[str, ...] = InvocationRow._fields
INVOCATION_TYPES: tuple[str, ...] = (
    "timestamptz", "text", "text", "int8", "text", "text", "text",
    "float8", "float8", "int4", "int4", "float8", "text", "text",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """Something in a line that breaks a contract; the line is still stored."""

    kind: str  # malformed_json | log_contract | emf_shape | parse_failed
    detail: str


class ParsedEvent(NamedTuple):
    row: LogRow
    invocation: InvocationRow | None = None
    problem: ParseProblem | None = None


@dataclass(frozen=True, slots=True)
class StreamContext:
    """What the group and stream names say about every event in them (computed once per stream)."""

    log_group: str
    log_stream: str
    function_name: str | None
    function_version: str | None

    @classmethod
    def of(cls, log_group: str, log_stream: str) -> StreamContext:
        function = (
            log_group[len(LAMBDA_GROUP_PREFIX) :] if log_group.startswith(LAMBDA_GROUP_PREFIX) else None
        )
        match = _STREAM_VERSION.search(log_stream)
        return cls(log_group, log_stream, function or None, match.group(1) if match else None)


def parse_event(ctx: StreamContext, seq: int, timestamp_ms: int, message: str) -> ParsedEvent:
    """One CloudWatch Logs event -> its row, the invocation it reports (if any) and any problem."""
    ts = _timestamp(timestamp_ms)
    line = message.rstrip("\n")
    if "\x00" in line:  # PostgreSQL text cannot hold NUL; one such line must not block its stream
        line = line.replace("\x00", "\ufffd")
    try:
        if line.startswith("{"):
            return _parse_json(ctx, seq, ts, line)
        return _parse_text(ctx, seq, ts, line)
    except Exception as exc:  # a line nobody foresaw must not stop its stream for good
        detail = f"line not parsed: {type(exc).__name__}: {exc}"[:500]
        return ParsedEvent(
            _text_row(ctx, seq, ts, line, "text"), problem=ParseProblem("parse_failed", detail)
        )


@lru_cache(maxsize=4096)
def _timestamp(timestamp_ms: int) -> datetime:
    """Epoch ms -> aware datetime; the lines of one invocation share milliseconds, so it is cached."""
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC)


def _parse_json(ctx: StreamContext, seq: int, ts: datetime, line: str) -> ParsedEvent:
    try:
        obj = _loads(line)
    except ValueError as exc:
        return ParsedEvent(
            _text_row(ctx, seq, ts, line, "text"), problem=ParseProblem("malformed_json", f"not JSON: {exc}")
        )
    if not isinstance(obj, dict):
        return ParsedEvent(_text_row(ctx, seq, ts, line, "text"))
    if "_aws" in obj:
        problem = None
        try:
            check_emf(obj)
        except EmfShapeError as exc:
            problem = ParseProblem("emf_shape", str(exc))
        row = _text_row(ctx, seq, ts, line, "emf")
        return ParsedEvent(row, problem=problem)
    values = list(map(obj.get, _JSON_KEYS))
    if not _PLAIN_TYPES.issuperset(map(type, values)):  # rare: numbers, objects; make them text
        values = [_str(v) for v in values]
        values[-1] = _message(obj.get("message"))
    (
        function_name, function_version, level, request_id, correlation_id,
        saga_id, saga_type, saga_step, trace_id, span_id, error_code, message,
    ) = values  # fmt: skip
    row = LogRow(
        ts,
        ctx.log_group,
        ctx.log_stream,
        seq,
        "json",
        function_name or ctx.function_name,
        function_version or ctx.function_version,
        level,
        request_id,
        correlation_id,
        saga_id,
        saga_type,
        saga_step,
        trace_id or _str(obj.get("xray_trace_id")),
        span_id,
        error_code,
        message,
        line,
    )
    if obj.keys() >= _REQUIRED:
        return ParsedEvent(row)
    detail = f"log line lacks contract fields: {', '.join(sorted(_REQUIRED.difference(obj)))}"
    return ParsedEvent(row, problem=ParseProblem("log_contract", detail))


def _loads(line: str) -> object:
    """``json.loads`` for a line that starts with ``{`` (no leading whitespace to skip)."""
    try:
        obj, end = _SCAN_ONCE(line, 0)
    except StopIteration as exc:
        raise ValueError(f"Expecting value: char {exc.value}") from None
    except RecursionError:
        raise ValueError("nested too deeply to decode") from None
    if end != len(line) and not line[end:].isspace():
        raise ValueError(f"Extra data: char {end}")
    return obj


def _parse_text(ctx: StreamContext, seq: int, ts: datetime, line: str) -> ParsedEvent:
    platform = _PLATFORM.match(line)
    if platform:
        keyword, request_id = platform.groups()
        row = _text_row(ctx, seq, ts, line, "platform", request_id=request_id)
        invocation = _report(ctx, seq, ts, request_id, line) if keyword == "REPORT" else None
        return ParsedEvent(row, invocation)
    timeout = _TIMEOUT.match(line)
    if timeout:
        return ParsedEvent(
            _text_row(ctx, seq, ts, line, "platform", request_id=timeout.group(1), level="ERROR")
        )
    root = _ROOT_HANDLER.match(line)
    if root:
        level, request_id, text = root.groups()
        return ParsedEvent(
            _text_row(ctx, seq, ts, line, "text", request_id=request_id, level=level, message=text)
        )
    unhandled = _UNHANDLED.match(line)
    if unhandled:
        error_type, text = unhandled.groups()
        return ParsedEvent(
            _text_row(ctx, seq, ts, line, "text", level="ERROR", message=f"{error_type}: {text}")
        )
    return ParsedEvent(_text_row(ctx, seq, ts, line, "text"))


def parse_report(line: str) -> dict[str, str]:
    """``REPORT RequestId: x\\tDuration: 1.2 ms\\t...`` -> {"Duration": "1.2 ms", ...}."""
    fields = {}
    for part in line.split("\t"):  # split/partition: about twice as fast as a findall regex here
        key, colon, value = part.partition(": ")
        if colon:
            fields[key.strip()] = value.strip()
    return fields


def _report(ctx: StreamContext, seq: int, ts: datetime, request_id: str, line: str) -> InvocationRow:
    fields = parse_report(line)
    return InvocationRow(
        ts,
        ctx.log_group,
        ctx.log_stream,
        seq,
        ctx.function_name,
        ctx.function_version,
        request_id,
        _number(fields.get("Duration")),
        _number(fields.get("Billed Duration")),
        _integer(fields.get("Memory Size")),
        _integer(fields.get("Max Memory Used")),
        _number(fields.get("Init Duration")),
        fields.get("Status"),
        fields.get("Error Type"),
    )


def _text_row(
    ctx: StreamContext,
    seq: int,
    ts: datetime,
    line: str,
    kind: str,
    *,
    request_id: str | None = None,
    level: str | None = None,
    message: str | None = None,
) -> LogRow:
    return LogRow(
        ts,
        ctx.log_group,
        ctx.log_stream,
        seq,
        kind,
        ctx.function_name,
        ctx.function_version,
        level,
        request_id,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        message,  # None: the raw line is the message (not stored twice)
        line,
    )


def _str(value: object) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _message(value: object) -> str | None:
    """Powertools logs dicts as objects; keep them as JSON text so the column stays text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def _number(text: str | None) -> float | None:
    """``"12.3 ms"`` -> 12.3; None for what is not a finite number."""
    if not text:
        return None
    try:
        value = float(text.split()[0])
    except (ValueError, IndexError):
        return None
    return value if math.isfinite(value) else None


def _integer(text: str | None) -> int | None:
    """Like ``_number``, and None outside ``integer`` (binary COPY would wrap it around silently)."""
    number = _number(text)
    return int(number) if number is not None and _INT4_MIN <= number <= _INT4_MAX else None
