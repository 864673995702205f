"""PTZ (rotating) cameras: ONVIF control, patrol scheduling, operator leases, hand-off geometry.

* :mod:`safecity.ptz.client`: asyncio ONVIF client over onvif-zeep-async, errors as PtzError.
* :mod:`safecity.ptz.camera`: the blocking facade used by threads and the web routes.
* :mod:`safecity.ptz.control`: the PTZ cameras of a config with their leases (``Services.ptz``).
* :mod:`safecity.ptz.lease`: one operator at a time per camera.
* :mod:`safecity.ptz.patrol`: which preset a patrol tour wants next (pure).
* :mod:`safecity.ptz.geometry`: where a fixed camera's event is and which PTZ can look there (pure).
* :mod:`safecity.ptz.types`: positions, status, presets, profiles.

See ``docs/ptz.md``.
"""
