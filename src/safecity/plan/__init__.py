"""Camera planning: new sites (budgeted multi-type MCLP on HiGHS) and replacement of aged cameras.

Needs the ``plan`` extra (geopandas, shapely, pyproj, highspy). Modules: ``config`` (PlanConfig),
``areas`` (gu / Seoul polygons), ``data`` (grid, layers, candidates, requests), ``score``, ``coverage``,
``optimize`` (SitingModel, PlanResult), ``sites`` and ``replace`` (workflows), ``report`` (GeoJSON, CSV,
offline HTML), ``store_io`` (save_plan), ``cli`` (``safecity plan sites|replace``). See docs/planning.md.
"""
