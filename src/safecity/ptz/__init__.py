"""PTZ (rotating) cameras: ONVIF control, patrol scheduling, operator leases.

* :mod:`safecity.ptz.client`: asyncio ONVIF client over onvif-zeep-async, errors as PtzError.
* :mod:`safecity.ptz.camera`: the blocking facade used by threads and the web routes.
* :mod:`safecity.ptz.patrol`: which preset a patrol tour wants next (pure).
* :mod:`safecity.ptz.lease`: one operator at a time per camera.
"""
