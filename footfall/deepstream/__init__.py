"""DeepStream edges: the configuration files a DeepStream node needs, written from the site model.

The node's messages come back into footfall through ``footfall cloud deepstream-bridge``
(:mod:`cloud.deepstream`). This package needs only the site model.
"""
