"""Errors raised by the CRM core.

The core knows nothing of security; its errors are about data: a record that is not
there, a filter that names a field the model does not have.
"""

from __future__ import annotations


class CRMError(Exception):
    """Base of every error the CRM core raises; ``str()`` is a message for a person."""

    #: What the shell's doors answer with: exit 2 on the command line, 400 over HTTP.
    exit_code = 2
    http_status = 400


class RecordNotFound(CRMError):
    """The record does not exist (or, seen through a scope, is not visible)."""

    http_status = 404

    def __init__(self, resource: str, record_id: int) -> None:
        super().__init__(f"{resource} {record_id} not found")
        self.resource = resource
        self.record_id = record_id


class UnknownField(CRMError):
    """A filter or sort names a field the resource does not have."""

    def __init__(self, resource: str, field: str) -> None:
        super().__init__(f"{resource} has no field {field!r}")
        self.resource = resource
        self.field = field
