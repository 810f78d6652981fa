"""Monitoring of OperationRuns: list, detail, requeue (API over `kernel.runs.service`)."""
