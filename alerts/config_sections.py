"""Alerting in the configuration document (wardsite/config_io.py): notification channels (their secret only on
request), rules with their scope, channels and per-device overrides, and maintenance windows. Alerts and
deliveries are history, not configuration."""
from django.db.models import QuerySet

from alerts.models import AlertRule, MaintenanceWindow, NotificationChannel, RuleOverride
from wardsite.config_io import Section, register

# What a template trigger's rule takes from the trigger (alerts.services.sync_trigger_rule): not the operator's.
FROM_THE_TRIGGER = frozenset({"name", "expression", "recovery_expression", "for_seconds", "severity", "description",
                              "builtin", "template_trigger"})


def _changed_by_an_operator(rule: AlertRule) -> bool:
    """Whether any field of the rule that the trigger does not set differs from what a new rule has."""
    for field in RULES.fields:
        if field.name in FROM_THE_TRIGGER:
            continue
        if field.many_to_many:
            made = [rule.template_trigger.template_id] if field.name == "templates" else []
            if [target.pk for target in getattr(rule, field.name).all()] != made:
                return True
        elif field.value_from_object(rule) != field.get_default():
            return True
    return bool(rule.overrides.all())


def _rules() -> QuerySet:
    """Every rule but those of template triggers that nobody changed: importing the template makes them again."""
    made = (AlertRule.objects.filter(template_trigger__isnull=False).select_related("template_trigger")
            .prefetch_related(*(f.name for f in RULES.fields if f.many_to_many), "overrides"))
    return AlertRule.objects.exclude(pk__in=[rule.pk for rule in made if not _changed_by_an_operator(rule)])


RULES = Section(
    "alert_rules", AlertRule, include=("builtin",), objects=_rules,
    # the shipped rule and a trigger's rule are found as such, whatever they are called now
    match_first=("builtin", "template_trigger"),
    children=(Section("overrides", RuleOverride, key=("device",), parent="rule"),),
)

register(
    Section("notification_channels", NotificationChannel),
    RULES,
    Section("maintenance_windows", MaintenanceWindow),
)
