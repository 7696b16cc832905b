"""Policy data shipped with crmguard: the Casbin model, the access policy, alert rules.

Only the location is code, so the shell can copy these defaults into a new home and
tests can load exactly what ships.
"""

from pathlib import Path

DEFAULT_DIR = Path(__file__).parent
