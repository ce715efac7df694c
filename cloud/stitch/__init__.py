"""Cross-camera stitching: one anonymous visitor id per person across all cameras of a site."""
