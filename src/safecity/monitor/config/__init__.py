"""Monitoring config: the pydantic models (``model``), rule/zone schedules (``schedule``) and the
generated key reference of ``docs/config.md`` (``reference``)."""
