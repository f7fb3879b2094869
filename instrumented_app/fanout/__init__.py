"""Fan-out, event routing and S3 thumbnails (issue 4): the pure parts behind their handlers.

``model`` is the order event ``POST /orders/events`` accepts, ``routing`` says which consumer
gets which event (the template's filter policies and rule state the same, checked by a unit
test), ``consumers`` is what each consumer does with an event and records in the ledger,
``thumbnails`` renders the sizes an upload gets.
"""
