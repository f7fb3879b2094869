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

The edges, around that core:

* ``sources.aurora`` (named cursor, saga table), ``sources.support`` /
  ``commerce`` / ``membership`` (httpx; each a ``source()`` and a
  ``writer()``, found by ``sources.registry``), ``sources.http`` (retries,
  ``Retry-After``), ``sources.prefetch`` (listings read ahead).
* ``repair``: the plan per finding (pure) and its execution through the writers.
* ``store``: runs, findings' lifecycle, watermarks, re-check keys and repairs in
  the audit store (``reconciler/schema``).
* ``run``: one run over every chosen system (``Reconciler``, ``RunOptions``).
* ``config`` / ``wiring``: settings and endpoints, and a ready ``Reconciler``.
* ``cli`` (``sagawatch reconcile``), ``schedule`` (``ReconcileSchedule``),
  ``lock`` (one run at a time, across processes).
"""
