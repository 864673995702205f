"""Forensic search: track records (what each tracked object looked like, where it went, when), the
colour palette that names them, and the ranking of "where else" candidates across cameras.

Modules: :mod:`~safecity.search.palette` (named colours), :mod:`~safecity.search.records` (the
:class:`~safecity.search.records.TrackRecord` value), :mod:`~safecity.search.summary` (the
:class:`~safecity.search.summary.TrackSummariser` fed by a camera pipeline),
:mod:`~safecity.search.where_else` (cross-camera candidates). The store side is
:mod:`safecity.store.tracks`.
"""
