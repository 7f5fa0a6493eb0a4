"""How the outside reaches the reporting service: HTTP routes, Kafka consumers."""
