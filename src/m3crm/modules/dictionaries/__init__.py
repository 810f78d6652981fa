"""Coded dictionaries (spec Appendix C §9; DECISIONS §12.1): global rows (`tenant_id IS
NULL`, seeded by the product) plus each tenant's own rows, readable by the tenant, writable
only for its own rows. Job titles and departments now; a later dictionary is one model
class (`DictionaryEntry`) and one `KINDS` entry.

Other modules validate a code through `service.dictionaries.check_code`, never by
reading the tables.
"""
