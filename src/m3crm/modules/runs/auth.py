"""Who may watch and manage OperationRuns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from m3crm.kernel.auth import AuthSubject, require

RunsRead = Annotated[AuthSubject, Depends(require("ops.runs.read"))]
RunsManage = Annotated[AuthSubject, Depends(require("ops.runs.manage"))]
