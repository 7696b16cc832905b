"""Leak detectors over the audit stream, the alert store and notifiers.

Not built yet: this room is reserved so the arrows of the house plan stay visible
(``audit <- alerts <- crmguard``). Until it lands, the ledger already holds every event
the detectors will read, and ``crmguard audit log`` answers the same questions by hand.
"""
