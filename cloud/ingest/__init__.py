"""``footfall cloud ingest``: contract topics → validated batches → TimescaleDB → offset commit.

(The consumed record, the transport protocols, the Kafka adapter and the in-memory twins live
below, in :mod:`cloud.transport`.)

A chain of small steps (arroyo-style), each in its own module:

* :mod:`cloud.ingest.decode` -- validate each record; invalid ones become dead letters.
* :mod:`cloud.ingest.batch` -- collect messages by count and age; remember the offsets to commit.
* :mod:`cloud.ingest.writer` -- one database transaction per batch, idempotent on natural keys.
* :mod:`cloud.ingest.pipeline` -- the loop: poll, decode, batch, write, dead-letter, commit.
"""
