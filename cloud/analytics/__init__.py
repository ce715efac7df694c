"""Analytics from floor trajectories and the site model.

* :mod:`footfall.site.rules` (not here: the simulator's truth and the evaluation call it too)
  -- the counting rules: line crossings with hysteresis, zone visits with a minimum length and a
  gap, and their settings (a site config's ``counting:`` section).
* :mod:`cloud.analytics.rules` -- the counting rules recorded with the data they produced; a
  process whose site config says otherwise refuses.
* :mod:`cloud.analytics.derive` -- re-derives dirty tracks from stored observations and keeps the
  per-minute rollups in step (the service's replacement for continuous aggregates).
* :mod:`cloud.analytics.retention` -- drop_chunks on a schedule.
"""
