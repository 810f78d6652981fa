"""OperationRuns: every queued or long job, watchable by a person (ARCHITECTURE §2.8)."""
