"""``sagawatch trace``'s terminal rendering: sagas, a span waterfall per trace, then the timeline."""

from __future__ import annotations

from datetime import datetime

from collectors.transaction.view import SpanNode, Transaction

NAME_WIDTH = 40


def render_text(transaction: Transaction, width: int = 40) -> str:
    if transaction.empty:
        return f"nothing is known about correlation id {transaction.correlation_id}"
    out = [f"transaction {transaction.correlation_id}"]
    for saga in transaction.sagas:
        stuck = "  STUCK" if saga.get("stuck") else ""
        failed = (
            f"  failed in {saga['failed_state']}: {saga.get('error')}" if saga.get("failed_state") else ""
        )
        out.append(f"  saga {saga['saga_type']} {saga['saga_id']}  {saga['status']}{stuck}{failed}")
        for step in (s for s in transaction.steps if s["saga_id"] == saga["saga_id"]):
            error = f"  {step['error']}" if step.get("error") else ""
            out.append(f"    {step['seq']:>2} {step['name']:30} {step['status']}{error}")
    for trace_id in transaction.trace_ids:
        nodes = [n for n in transaction.waterfall if n.trace_id == trace_id]
        out.append(f"  trace {trace_id}")
        out.extend(waterfall_lines(nodes, width))
    if transaction.dlq_messages:
        out.append("  dead-letter messages")
        for message in transaction.dlq_messages:
            received = message.get("receive_count")
            out.append(f"    {message['queue_name']} {message['message_id']} received {received}x")
    out.append("  timeline")
    for event in transaction.timeline:
        if event.kind == "span":
            continue  # drawn above
        out.append(f"    {_clock(event.at)} {event.kind:10} {event.source[:28]:28} {event.summary}")
    return "\n".join(out)


def waterfall_lines(nodes: list[SpanNode], width: int) -> list[str]:
    """One line per span: indented name, a bar placed and scaled on the trace's time axis, duration."""
    if not nodes:
        return []
    start = min(n.start for n in nodes)
    end = max(n.end for n in nodes)
    total = max((end - start).total_seconds(), 1e-6)
    lines = []
    for node in nodes:
        offset = int((node.start - start).total_seconds() / total * width)
        length = max(1, round((node.end - node.start).total_seconds() / total * width))
        offset = min(offset, width - 1)
        length = min(length, width - offset)
        bar = " " * offset + "█" * length + " " * (width - offset - length)
        name = ("  " * node.depth + node.name)[:NAME_WIDTH]
        status = " !" if node.status_code == "ERROR" else ""
        lines.append(f"    {name:{NAME_WIDTH}} |{bar}| {node.duration_ms:9.1f} ms{status}")
    return lines


def _clock(at: datetime) -> str:
    return f"{at:%H:%M:%S}.{at.microsecond // 1000:03d}"
