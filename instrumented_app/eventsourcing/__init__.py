"""Event sourcing on DynamoDB: accounts whose state is the fold of their events.

``model`` holds the events, the rules and the fold (pure); ``store`` the event
store (one item per aggregate id and version, conditional puts: optimistic
concurrency); ``views`` the query model table the router's queue feeds;
``replay`` rebuilds the query model from the store; ``service_b`` is the
second consumer of the routed events; ``config`` where a function finds its
tables and queues.
"""
