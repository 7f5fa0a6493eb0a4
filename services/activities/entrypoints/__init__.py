"""How the outside reaches the activities service: HTTP routes, Kafka consumers."""
