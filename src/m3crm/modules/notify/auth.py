"""Who may do what in the notifications core (permission codes of spec §2.8, §14.12)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from m3crm.kernel.auth import AuthSubject, require, require_any

Dispatcher = Annotated[AuthSubject, Depends(require("notify.send.test"))]
OutboxReader = Annotated[AuthSubject, Depends(require("notify.outbox.read"))]
OutboxOperator = Annotated[AuthSubject, Depends(require("ops.runs.manage"))]
TemplateManager = Annotated[AuthSubject, Depends(require("notify.templates.manage"))]
TemplateApprover = Annotated[AuthSubject, Depends(require("notify.templates.approve"))]
InboxReader = Annotated[AuthSubject, Depends(require("notify.inbox.read.self"))]
TenantInboxReader = Annotated[AuthSubject, Depends(require("notify.inbox.read.tenant"))]
PreferenceEditor = Annotated[AuthSubject, Depends(require("notify.preferences.update.self"))]
ConsentManager = Annotated[AuthSubject, Depends(require("notify.suppression.manage"))]
PolicyManager = Annotated[AuthSubject, Depends(require("notify.policies.manage"))]
PhonePolicyManager = Annotated[AuthSubject, Depends(require("twofa.manage.tenant"))]
PolicyReader = Annotated[
    AuthSubject, Depends(require_any("notify.policies.manage", "twofa.manage.tenant"))
]
"""Opens Settings → Notification policies; each form on it checks its own permission."""
