"""Discovery's choices: what a rule does with new devices, and the states of a run."""
from django.db import models


class AutoAdd(models.TextChoices):
    OFF = "off", "Off: only list what was found"
    ADD = "add", "Add new devices"
    ADD_AND_APPLY = "add_apply", "Add new devices and apply the auto-selected template"


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
