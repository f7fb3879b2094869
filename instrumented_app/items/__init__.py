"""The CRUD API on ``/items`` (DynamoDB) and its CQRS read model (per-category summaries).

``model`` holds the shapes, ``tokens`` the opaque pagination token, ``store`` the
table and its GSI, ``api`` the Powertools routes, ``projection`` the stream
consumer that keeps the read model up to date, ``config`` where a function finds
its tables.
"""
