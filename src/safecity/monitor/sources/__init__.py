"""Video sources: PyAV readers for files and RTSP cameras (``readers``) that yield decoded frames or gaps."""
