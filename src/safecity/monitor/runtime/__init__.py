"""Running pipelines: camera workers, the hub (live events, health, wall, sinks) and its transports."""
