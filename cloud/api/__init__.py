"""The query API (FastAPI): ``create_app(settings)``, one router per resource."""
