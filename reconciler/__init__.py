"""Reconciler: drift between Aurora (the source of truth) and each SaaS system.

The pure core, in the order data flows through it:

* ``model``: ``Record`` (one row as a source read it), ``Finding`` (one piece
  of drift, PII masked, with a stable ``fingerprint``), ``Deferred``.
* ``mapping``: per-system field mapping as data (``MAPPINGS``); turns raw rows
  and API objects into ``Record``. ``normalise`` and ``masking`` serve it.
* ``compare``: the judgement for one key (``KeyComparer``, ``DiffPolicy``).
* ``diff``: the streaming merge-join (``diff_sorted``, with a key range) and
  the incremental path over changed keys (``diff_keys``).
* ``sources``: the ``Source`` protocol (``base``), an in-memory backend,
  ``SaasSource`` (what every SaaS backend shares) and an external sort.
* ``modes``: both run modes over ``Source`` backends, with watermarks and
  key ranges; ``inflight`` reads the keys live sagas hold.
* ``lifecycle``: which findings are new, still open or resolved.
* ``report``: JSON, CSV and Markdown.
"""
