"""Shared test data for the alarms tests: the AWS documentation's sample events."""

from __future__ import annotations

import json

# "Using filter patterns to match terms in JSON log events" -> "JSON log event"
# (ThisFlag comes from the same section's earlier revision, which had "{ $.ThisFlag IS TRUE }").
DOC_JSON_EVENT = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "ThisFlag": True,
        "cluster.name": "c",
    }
)

# Same section -> compound expressions -> "JSON object".
DOC_COMPOUND_EVENT = json.dumps(
    {
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
    }
)

# "Using filter patterns to match terms in space-delimited log events"
# -> "Example: Space-delimited log event".
DOC_APACHE_LINE = '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'

# Same section -> "Space-delimited log event" (the w1/w2 examples).
DOC_W_LINES = {
    "info_get": "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200",
    "info_post": "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310",
    "warning": "WARNING 09/25/2014 12:00:02 Invalid user request",
    "error": "ERROR 09/25/2014 12:00:02 Failed to process request",
}
