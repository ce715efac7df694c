"""Alerts: a site's rules (its config's ``alerts:``) evaluated against the stored data, fired and
cleared alerts stored, and every change sent to the site's webhooks through a durable outbox.

The ``footfall cloud alerts`` worker does both, every ``interval_s``: :func:`evaluate.evaluate_site`
per site (one transaction: the alert changes and their outbox rows together), then
:func:`webhooks.deliver_due` (each due outbox row POSTed, HMAC-signed, retried with backoff).
"""
