"""/metrics: WARD FLUX's own figures in the Prometheus text format, read at scrape time from Redis, the database
and the health checks, so every web process serves the same numbers (no per-process state: multiprocess-safe).

Apps add their families with `register(collect)` from their AppConfig.ready() (alerts: deliveries, firing alerts).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry
from prometheus_client.exposition import generate_latest

from wardsite import health, task_metrics, victoria

Collect = Callable[[], Iterable[Metric]]
_collectors: list[Collect] = []


def register(collect: Collect) -> Collect:
    """Add an app's metric families (a function yielding prometheus_client metric families)."""
    _collectors.append(collect)
    return collect


def exposition() -> bytes:
    """Everything, in the Prometheus text format (version 0.0.4)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    return generate_latest(registry)


class _Collector:
    def collect(self) -> Iterator[Metric]:
        report = health.report()
        yield from _health_families(report)
        yield from _sample_families()
        if _part_ok(report, "redis"):
            yield from _task_families(health.short_redis())
        for collect in _collectors:
            yield from collect()


def _part_ok(report: health.Report, name: str) -> bool:
    return any(part.name == name and part.ok for part in report.parts)


def _health_families(report: health.Report) -> Iterator[Metric]:
    healthy = GaugeMetricFamily("wardflux_part_healthy", "1 when the part passes its /healthz check", labels=["part"])
    age = GaugeMetricFamily("wardflux_loop_age_seconds", "Seconds since the loop last ran", labels=["loop"])
    late = GaugeMetricFamily("wardflux_loop_lateness_seconds", "Seconds the loop is behind its interval",
                             labels=["loop"])
    depth = GaugeMetricFamily("wardflux_queue_depth", "Tasks waiting on the Celery queue", labels=["queue"])
    consumers = GaugeMetricFamily("wardflux_queue_consumers", "Workers consuming the queue", labels=["queue"])
    spool = GaugeMetricFamily("wardflux_spool", "The VictoriaMetrics write spool (chunks, bytes, drops...)",
                              labels=["figure"])
    for part in report.parts:
        healthy.add_metric([part.name], 1.0 if part.ok else 0.0)
        if part.detail.get("age_seconds") is not None:
            age.add_metric([part.name], part.detail["age_seconds"])
            late.add_metric([part.name], part.detail["lateness_seconds"])
        for queue in (part.detail.get("queues") or []) if part.name == "queues" else []:
            depth.add_metric([queue["queue"]], float(queue.get("depth") or 0))
            consumers.add_metric([queue["queue"]], float(queue.get("consumers") or 0))
        if part.name == "spool":
            for figure, value in part.detail.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    spool.add_metric([figure], float(value))
    yield from (healthy, age, late, depth, consumers, spool)


def _sample_families() -> Iterator[Metric]:
    samples = CounterMetricFamily("wardflux_samples", "Samples written to VictoriaMetrics: taken at once (sent), "
                                  "taken from the spool (replayed), put in the spool (spooled)", labels=["outcome"])
    try:
        counts = victoria.sample_counts()
    except victoria.VictoriaError:  # the spool's Redis is down: /healthz says so
        return
    for outcome, count in counts.items():
        samples.add_metric([outcome], float(count))
    yield samples


def _task_families(connection) -> Iterator[Metric]:
    runs = CounterMetricFamily("wardflux_task_runs", "Celery task runs finished", labels=["task"])
    failures = CounterMetricFamily("wardflux_task_failures", "Celery task runs that failed", labels=["task"])
    durations = HistogramMetricFamily("wardflux_task_duration_seconds", "Celery task run time", labels=["task"])
    cpu = CounterMetricFamily("wardflux_task_cpu_seconds", "CPU time of Celery task runs (their thread's)",
                              labels=["task"])
    for task, figures in sorted(task_metrics.read(connection).items()):
        runs.add_metric([task], figures.get("runs", 0.0))
        failures.add_metric([task], figures.get("failures", 0.0))
        buckets = [(task_metrics.bucket_label(b), figures.get(f"le={task_metrics.bucket_label(b)}", 0.0))
                   for b in task_metrics.BUCKETS]
        durations.add_metric([task], buckets, sum_value=figures.get("sum", 0.0))
        cpu.add_metric([task], figures.get("cpu", 0.0))
    yield from (runs, failures, durations, cpu)
