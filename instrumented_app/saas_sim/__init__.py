"""SaaS simulators: support (Zendesk-like), commerce (Shopify-like), membership (plain REST).

Each service lives in its own folder, as moto lays out a service: ``models.py``
holds the state and the business rules, ``exceptions.py`` names the errors,
``responses.py`` turns HTTP into model calls and back, ``urls.py`` routes.
What is not the vendor's business (faults, rate limits, idempotency keys,
correlation-id audit, the clock, the admin endpoints) wraps the HTTP layer in
the shared modules here and never reaches into a model.
"""
