"""The Prometheus figures operations teams watch, defined once for every service.

Label sets stay small: event type and topic are bounded by the code, the province by
the number of provinces (34). Request paths are route templates, never raw URLs.
"""

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

OUTBOX_PUBLISHED = Counter(
    "ketnghia_outbox_published_total",
    "Events the outbox relay published to Kafka and removed from the outbox",
    ["topic"],
)
OUTBOX_BACKLOG = Gauge(
    "ketnghia_outbox_backlog",
    "Events in the outbox not yet published",
)
OUTBOX_OLDEST_AGE = Gauge(
    "ketnghia_outbox_oldest_age_seconds",
    "Age of the oldest unpublished event (0 when the outbox is empty)",
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "ketnghia_outbox_publish_failures_total",
    "Relay batches that failed to publish and will be retried",
)
OUTBOX_PARKED = Counter(
    "ketnghia_outbox_parked_total",
    "Events Kafka refused for good, set aside in outbox_parked instead of published",
    ["topic"],
)
CONSUMER_APPLIED = Counter(
    "ketnghia_consumer_events_applied_total",
    "Events a consumer applied to its projections",
    ["consumer", "type"],
)
CONSUMER_DUPLICATES = Counter(
    "ketnghia_consumer_duplicates_total",
    "Redelivered events a consumer recognised and skipped",
    ["consumer"],
)
DEAD_LETTERS = Counter(
    "ketnghia_dead_letters_total",
    "Messages a consumer could not use and sent to the dead-letter topic",
    ["consumer", "reason"],
)
PIPELINE_STALLED = Gauge(
    "ketnghia_pipeline_stalled",
    "1 while a consumer or an outbox relay retries a batch that failed (time may cure it)",
    ["pipeline"],
)
PROJECTION_LAG_SECONDS = Gauge(
    "ketnghia_projection_lag_seconds",
    "Time between now and the newest event a consumer has applied, when it applied it",
    ["consumer"],
)
PROJECTION_LAG_EVENTS = Gauge(
    "ketnghia_projection_lag_events",
    "Messages on the consumer's partitions not yet applied (end offset minus position)",
    ["consumer"],
)
HTTP_REQUESTS = Histogram(
    "ketnghia_http_request_duration_seconds",
    "HTTP request latency by route and status",
    ["method", "route", "status"],
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """A request's count and latency, labelled by its route's template (`unmatched` when
    none matched, so that scanned paths do not make a series each)."""
    HTTP_REQUESTS.labels(method, route, str(status)).observe(seconds)


def scraped(exposition: str) -> dict[str, list[Sample]]:
    """A `/metrics` page read back with prometheus_client's own parser: each sample name
    (`ketnghia_dead_letters_total`, a histogram's `..._count`) → its series, each with its
    labels and value. For `ketnghia status` and the tests."""
    found: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found
