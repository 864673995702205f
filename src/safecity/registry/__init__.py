"""Camera registry: the inventory of cameras and sites, imported from the national CCTV standard data."""
