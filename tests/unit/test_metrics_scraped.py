"""`shared.metrics.scraped`: a `/metrics` page read back by sample name, labels and value."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from shared.metrics import scraped


def test_a_page_reads_back_by_sample_name_with_labels_and_values() -> None:
    registry = CollectorRegistry()
    dead = Counter("t_dead_letters_total", "d", ["consumer", "reason"], registry=registry)
    lag = Gauge("t_lag_events", "l", ["consumer"], registry=registry)
    took = Histogram("t_seconds", "s", ["method"], buckets=[1.0], registry=registry)
    dead.labels('a "quoted" one', "not_cloudevent").inc(2)
    dead.labels("b", "rejected").inc()
    lag.labels("a").set(7)
    took.labels("GET").observe(0.5)

    found = scraped(generate_latest(registry).decode())

    dead_letters = found["t_dead_letters_total"]
    assert [(s.labels, s.value) for s in dead_letters] == [
        ({"consumer": 'a "quoted" one', "reason": "not_cloudevent"}, 2.0),
        ({"consumer": "b", "reason": "rejected"}, 1.0),
    ]
    assert [(s.labels, s.value) for s in found["t_lag_events"]] == [({"consumer": "a"}, 7.0)]
    assert [(s.labels, s.value) for s in found["t_seconds_count"]] == [({"method": "GET"}, 1.0)]
    assert "t_missing" not in found
