"""Third-party front-end files vendored with their licences (the console and the HTML reports work offline).

``leaflet/``: Leaflet 1.9.4 (BSD-2-Clause), used by the console's maps (served at ``/static/vendor/leaflet``)
and inlined into the planning reports.
``swagger-ui/``: Swagger UI 5.36.0 (Apache-2.0), the console's ``/docs`` page (served at
``/static/vendor/swagger-ui``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["LEAFLET_DIR", "SWAGGER_UI_DIR"]

LEAFLET_DIR = Path(__file__).with_name("leaflet")
SWAGGER_UI_DIR = Path(__file__).with_name("swagger-ui")
