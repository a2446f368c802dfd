"""The alert engine: every rule's query evaluated by VictoriaMetrics, a state machine per (rule, series).

    (nothing) --holds--> pending --held for for_seconds--> firing --stops holding / recovery holds--> resolved
    pending --stops holding--> (deleted: it never fired)

While firing and unacknowledged, an alert is repeated every rule.repeat_minutes and escalated once after
rule.escalate_after_minutes. An alert of a device that is down, or behind one that is (parent), fires but is
suppressed (`suppression` says why, `suppression_detail` names whom): nobody is told, unless it still fires once
the cause is gone. So is one that fires too often (flapping): people get one "flapping" notification instead of a
stream.

`plan` says what to ask VictoriaMetrics for each rule, `states` is the state machine (a table of transitions),
`suppression` the causes that keep people from being told. Notifications are sent for the events returned, once:
each transition is claimed by one evaluator. What every cycle does for every open alert (its latest value,
opening the new ones, counting recent firings for flapping) is one statement per rule, not one per alert.
"""
from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from alerts.engine.plan import Plan, ask, plan_rule, template_includers
from alerts.engine.states import Event, RuleResult, settle
from alerts.engine.suppression import Maintenance
from alerts.models import AlertRule
from wardsite.expressions import ExpressionError
from wardsite.victoria import VictoriaError

__all__ = ["Event", "Maintenance", "RuleResult", "ask", "evaluate_all", "plan_rule", "template_includers"]
logger = logging.getLogger(__name__)


def evaluate_all(at: datetime | None = None) -> list[RuleResult]:
    """Evaluate every enabled rule once at `at` (default now); a failing rule does not stop the others.

    Every rule's queries are asked first (each distinct one once); then each rule's alerts move on.
    """
    at = at or timezone.now()
    includers, maintenance = template_includers(), Maintenance.at(at)  # once per cycle, not per rule
    rules = list(AlertRule.objects.filter(enabled=True).prefetch_related("devices", "groups", "tags", "templates",
                                                                       "overrides"))
    plans: dict[int, Plan | ExpressionError] = {}
    for rule in rules:
        try:
            plans[rule.pk] = plan_rule(rule, includers, maintenance)
        except ExpressionError as exc:  # an expression saved around clean()
            plans[rule.pk] = exc
    answers = ask({q for plan in plans.values() if isinstance(plan, Plan) for q in plan.queries()}, at)
    results = []
    for rule in rules:
        try:
            plan = plans[rule.pk]
            if isinstance(plan, ExpressionError):
                raise plan
            results.append(settle(rule, plan, answers, at, maintenance))
        except (VictoriaError, ExpressionError) as exc:  # VM down or refusing the query
            logger.warning("alert rule %r not evaluated: %s", rule.name, exc)
            results.append(RuleResult(rule.name, error=str(exc)))
    return results
