"""Site set-up in the browser, served by the edge node for its own cameras.

``footfall edge setup --site FILE`` serves a page that shows each camera's snapshot (heads
blurred) beside its floor plan; the installer clicks point pairs or imports an OpenCV
calibration, sees the homography's reprojection error, the camera's field of view and the
people's feet on the plan, draws zones and counting lines, and saves site YAML that
``footfall validate-config`` accepts. Pixels stay on the node.
"""
