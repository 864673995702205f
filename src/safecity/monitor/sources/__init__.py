"""Video sources: PyAV readers for files and RTSP cameras (``readers``) that yield decoded frames or gaps;
packets read without decoding (``packets``), the compressed-domain gate over their sizes (``gate``) and
the source that decodes only while the gate says something happens (``gated``)."""
