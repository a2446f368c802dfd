"""Bulk jobs in the admin: the action that runs one (at once or in the background) and its progress page."""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from wardsite import jobs

REFRESH_SECONDS = 2


def bulk_action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, name: str,
                params: dict[str, Any] | None = None) -> HttpResponseRedirect | None:
    """Run the job kind `name` over the selection: a small one at once, each outcome a message; a bigger one (or
    one that must run on a remote site's poller) as a background job, answered at once with its progress page.
    The action's own permissions were checked by the admin before it was called."""
    kind = jobs.kind_named(name)
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    if not kind.runs_here(ids):
        job_id = jobs.start(name, ids, params or {}, user_id=request.user.pk)
        return HttpResponseRedirect(reverse("job-progress", args=[job_id]))
    result = jobs.run_now(name, ids, params or {})
    for note in result.notes:
        modeladmin.message_user(request, note, messages.SUCCESS)
    for label, reason in result.failures:
        modeladmin.message_user(request, f"{label}: {reason}", messages.ERROR)
    return None


def _own_job(request: HttpRequest, job_id: str) -> jobs.Progress:
    """The job, if the user started it or is a superuser: 404 for anyone else, as for an unknown job."""
    job = jobs.progress(job_id)
    if job is None or not (job.user_id == request.user.pk or request.user.is_superuser):
        raise Http404("No such job (jobs are kept for a day, and shown only to whoever started them).")
    return job


@admin.site.admin_view
def progress(request: HttpRequest, job_id: str) -> TemplateResponse:
    """The job's page; its progress box alone when htmx asks (every REFRESH_SECONDS until the job is done).
    Only the user who started the job, or a superuser, sees it."""
    job = _own_job(request, job_id)
    box_only = request.headers.get("HX-Request") == "true"
    template = "wardsite/job_progress_box.html" if box_only else "wardsite/job_progress.html"
    context = {"job": job, "refresh_seconds": REFRESH_SECONDS, "title": job.title}
    response = TemplateResponse(request, template, context if box_only else {**admin.site.each_context(request),
                                                                              **context})
    response["Cache-Control"] = "no-store"
    return response


@admin.site.admin_view
def job_list(request: HttpRequest) -> TemplateResponse:
    """The last day's jobs, newest first: the user's own; a superuser's shows everybody's, with who started each."""
    everyone = request.user.is_superuser
    found = jobs.recent(None if everyone else request.user.pk)
    users = get_user_model().objects.in_bulk({job.user_id for job in found}) if everyone else {}
    rows = [(job, users.get(job.user_id)) for job in found]
    return TemplateResponse(request, "wardsite/job_list.html", {
        **admin.site.each_context(request), "title": "Bulk jobs of the last day", "rows": rows, "everyone": everyone})


@admin.site.admin_view
@require_POST
def cancel(request: HttpRequest, job_id: str) -> HttpResponseRedirect:
    """Stop the job after the batch in hand (the button on its page); back to its page, which says how far it got."""
    job = _own_job(request, job_id)
    if jobs.cancel(job.id):
        messages.success(request, "Cancelled: no more batches run; what was done stays done.")
    else:
        messages.info(request, "The job had already finished.")
    return HttpResponseRedirect(reverse("job-progress", args=[job.id]))
