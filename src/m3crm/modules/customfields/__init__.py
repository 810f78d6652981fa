"""Custom fields (spec Section 3 §3): tenant-defined fields on any record type.

Contacts and companies use them now; deals, leads and units will reuse the same tables
through `entity_type`, so this capability knows nothing about the records it decorates.
"""
