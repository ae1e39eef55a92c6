"""Prometheus metrics of the server and of scans: LSP requests by method, per-stage latency, findings by
class, model cache hits. One registry per server or scan (never the process-global default one)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server, write_to_textfile
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from ai_core.findings import Finding
from ai_core.scan import ScanResult
from ai_core.timing import STAGES

log = logging.getLogger(__name__)

STAGE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)
PARSE_NOTIFICATIONS = frozenset({"textDocument/didOpen", "textDocument/didChange"})
"""Notifications whose handling is parsing the document (analysis is scheduled off the loop)."""


class ModelCacheCollector(Collector):
    """Model cache hits and misses, read from the scorer at scrape time (it may be swapped meanwhile)."""

    def __init__(self, scorer_of: Callable[[], Any]) -> None:
        self.scorer_of = scorer_of

    def collect(self) -> Iterable[Metric]:
        """The two counters of the current scorer (zero before a model loaded)."""
        scorer = self.scorer_of()
        family = CounterMetricFamily("coderev_model_cache_lookups", "Model score cache lookups, by result",
                                     labels=["result"])
        family.add_metric(["hit"], float(getattr(scorer, "hits", 0) or 0))
        family.add_metric(["miss"], float(getattr(scorer, "misses", 0) or 0))
        yield family


class Metrics:
    """coderev's metrics in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter("coderev_lsp_messages", "LSP requests and notifications received, by method",
                                ["method"], registry=self.registry)
        self.request_seconds = Histogram("coderev_lsp_request_seconds", "Time to answer an LSP request, by method",
                                         ["method"], buckets=STAGE_BUCKETS, registry=self.registry)
        self.stage_seconds = Histogram("coderev_stage_seconds", "Latency of each pipeline stage", ["stage"],
                                       buckets=STAGE_BUCKETS, registry=self.registry)
        self.findings = Counter("coderev_findings", "Findings reported (a scan: once; the server: at each publish), "
                                "by vulnerability class", ["vuln_class"],
                                registry=self.registry)
        self.files = Counter("coderev_files_analysed", "Files (or document versions) analysed",
                             registry=self.registry)
        for stage in STAGES:  # every stage is exported from the start, even before it ran
            self.stage_seconds.labels(stage)

    def observe_stage(self, stage: str, seconds: float) -> None:
        """A `StageObserver`: one stage took `seconds`."""
        self.stage_seconds.labels(stage).observe(seconds)

    def count_findings(self, findings: Iterable[Finding]) -> None:
        """Findings reported for one file."""
        self.files.inc()
        for finding in findings:
            self.findings.labels(finding.vuln_class.value).inc()


def scan_metrics(result: ScanResult) -> Metrics:
    """The metrics of a finished scan."""
    metrics = Metrics()
    for scanned in result.files:
        metrics.count_findings(scanned.findings)
        for stage, seconds in scanned.stage_seconds.items():
            metrics.observe_stage(stage, seconds)
    for stage, seconds in result.stage_seconds.items():
        metrics.observe_stage(stage, seconds)
    return metrics


def write_scan_metrics(result: ScanResult, path: Path) -> None:
    """Write a scan's metrics to `path` in the Prometheus text format (atomically, for node_exporter)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), scan_metrics(result).registry)


def instrument(server: Any, metrics: Metrics) -> None:
    """Count every LSP message by method and time requests, on the server's protocol instance."""
    protocol = server.protocol
    handle_request = protocol._handle_request
    handle_notification = protocol._handle_notification
    send_response = protocol._send_response
    started: dict[Any, tuple[str, float]] = {}

    def on_request(msg_id: Any, method_name: str, params: Any) -> Any:
        metrics.requests.labels(method_name).inc()
        started[msg_id] = (method_name, time.perf_counter())
        return handle_request(msg_id, method_name, params)

    def on_notification(method_name: str, params: Any) -> Any:
        metrics.requests.labels(method_name).inc()
        at = time.perf_counter()
        try:
            return handle_notification(method_name, params)
        finally:
            if method_name in PARSE_NOTIFICATIONS:
                metrics.observe_stage("parse", time.perf_counter() - at)

    def on_response(msg_id: Any, result: Any = None, error: Any = None) -> Any:
        method_name, at = started.pop(msg_id, ("", 0.0))
        if method_name:
            metrics.request_seconds.labels(method_name).observe(time.perf_counter() - at)
        return send_response(msg_id, result, error)

    protocol._handle_request = on_request
    protocol._handle_notification = on_notification
    protocol._send_response = on_response


def register(server: Any, port: int | None = None, host: str = "127.0.0.1") -> Metrics:
    """Instrument the server: messages, stages (through `server.stage_observer`), findings published, model
    cache; and serve /metrics on `port` when given."""
    metrics = Metrics()
    instrument(server, metrics)
    server.stage_observer = metrics.observe_stage
    metrics.registry.register(ModelCacheCollector(lambda: server.scorer))
    publish = server.text_document_publish_diagnostics

    def published(params: Any) -> Any:
        metrics.files.inc()
        for diagnostic in params.diagnostics:
            if diagnostic.code:
                metrics.findings.labels(str(diagnostic.code)).inc()
        return publish(params)

    server.text_document_publish_diagnostics = published
    if port is not None:
        start_http_server(port, addr=host, registry=metrics.registry)
        log.info("metrics on http://%s:%d/metrics", host, port)
    return metrics
