"""The HTTP door: FastAPI routes and models over the guarded service, holding no rule
of their own. Imported only by ``crmguard serve`` (FastAPI is heavy)."""

from crmguard.api.app import create_app

__all__ = ["create_app"]
