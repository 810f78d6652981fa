"""A run type for tests: records one audit row (its side effect) and can block or fail."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from m3crm.kernel import audit
from m3crm.kernel.runs.context import RunContext
from m3crm.kernel.runs.registry import run_handler

TEST_RUN = "test.record"


@run_handler(TEST_RUN, permission="ops.runs.read")
async def record_side_effect(ctx: RunContext) -> dict[str, Any]:
    """Write the side effect, then optionally wait for `block_file` to vanish or fail."""
    await audit.record(
        ctx.session,
        ctx.subject,
        "test.side_effect",
        audit.EntityRef("operation_run", ctx.run_id),
        after={"key": ctx.idempotency_key},
    )
    await ctx.report_progress(1, 2)
    block = ctx.payload.get("block_file")
    if block:
        while Path(str(block)).exists():
            await asyncio.sleep(0.05)
    if ctx.payload.get("fail"):
        raise RuntimeError("simulated failure")
    return {"ok": True}


GATED_RUN = "test.gated"


@run_handler(GATED_RUN, permission="ops.runs.read", feature="twofa.sms")
async def gated(ctx: RunContext) -> dict[str, Any]:
    """A run only DevPro tenants may execute (DevFree lacks `twofa.sms`)."""
    return {"gated": True}
