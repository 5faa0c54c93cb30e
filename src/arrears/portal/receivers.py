"""The portal's hooks into the rest of the system, connected at start-up (``PortalConfig.ready``).

What they do lives in :mod:`arrears.portal.plans`, which brings the collections services, the
workflow and Polars; these stand-ins import it when a plan is first saved or a message first
rendered, so a command or request that does neither never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arrears.contact.models import OutboxMessage
    from arrears.ledger.models import RepaymentPlan


def on_plan_saved(sender: Any, instance: RepaymentPlan, **kwargs: Any) -> None:
    """:func:`arrears.portal.plans.on_plan_saved`: a portal plan was approved or rejected."""
    from arrears.portal import plans

    plans.on_plan_saved(sender, instance, **kwargs)


def notice_variables(message: OutboxMessage) -> dict[str, str]:
    """:func:`arrears.portal.plans.notice_variables`: a confirmation SMS's own variables."""
    from arrears.portal import plans

    return plans.notice_variables(message)


def connect() -> None:
    """Wire the portal's plan requests into the system."""
    from django.db.models.signals import post_save

    from arrears.contact.render import register_extra
    from arrears.ledger.models import RepaymentPlan

    post_save.connect(on_plan_saved, sender=RepaymentPlan, dispatch_uid="portal-plan-decided")
    register_extra(notice_variables)
