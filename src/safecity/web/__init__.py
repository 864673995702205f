"""Operator console: FastAPI app, routes, auth, static front end and the serve/users/demo CLI."""

__all__: list[str] = []
