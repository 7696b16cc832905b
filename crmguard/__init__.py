"""crmguard: security, audit and data-leak monitoring for a CRM.

The application shell: it composes the rooms (``crm_models``, ``access``, ``audit``,
``alerts``, ``backup``) into the guarded service, the CLI and the daemon.
"""

__version__ = "0.1.0"
