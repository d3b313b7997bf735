"""hardstep's container image, for hosts without Python: ``make image`` (``python -m image.build``)."""
