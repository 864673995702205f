"""Seeing: the motion gate (``motion``), detectors (``detect``: protocol, ONNX models, crops; ``cascade``:
tiered detection) and the multi-object tracker (``track``)."""
