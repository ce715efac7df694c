"""Replay evaluation: accuracy reports from recorded footage with ground truth.

``footfall eval MANIFEST`` runs the production edge pipeline over the sequences a manifest lists
(``configs/eval/*.yaml``) and writes a report (Markdown, HTML with plots, JSON) under
``reports/eval/<name>/``:

* :mod:`~footfall.evaluation.manifest` -- the manifest (pydantic, paths checked up front);
* :mod:`edge.evaluate` -- HOTA, IDF1, MOTA, precision, recall (TrackEval; the project's one
  scorer, shared with ``footfall edge evaluate``);
* :mod:`~footfall.evaluation.counting` -- line crossings and zone visits from ground-truth
  tracks against the system's, with the cloud's own counting logic;
* :mod:`~footfall.evaluation.crowd` -- people per frame inside a region of interest (Mall);
* :mod:`~footfall.evaluation.end_to_end` -- footage → edge → broker → cloud → API;
* :mod:`~footfall.evaluation.runner` and :mod:`~footfall.evaluation.report`.

It also holds the harness of ``footfall simulate --evaluate``: stitching scored against the
simulator's truth (:mod:`~footfall.evaluation.stitching`, IDF1 over global ids in
:mod:`~footfall.evaluation.stitch_metrics`), in process or through the real broker, ingest and
database (:mod:`~footfall.evaluation.stitching_stack`); and the scratch databases every harness
and test uses (:mod:`~footfall.evaluation.scratch`).

This package sits above both ``edge`` and ``cloud`` (it drives the edge pipeline in-process and
reuses the cloud's pure counting functions); neither of them imports it. The command line
(:mod:`~footfall.evaluation.cli`) imports the heavy parts only when it runs.
"""
