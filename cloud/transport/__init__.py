"""The cloud's transport, at the bottom of the cloud (below ingest; it imports nothing else of
the cloud):

* :mod:`cloud.transport.types` -- the consumed record, offsets, dead letters, and the protocols
  of a record source and a dead-letter sink;
* :mod:`cloud.transport.kafka` -- the adapter around kafka-python (the only module that imports
  ``kafka``): topic set-up, the ingest source, dead letters, the message publisher;
* :mod:`cloud.transport.memory` -- in-memory twins of the source and the dead-letter sink.
"""
