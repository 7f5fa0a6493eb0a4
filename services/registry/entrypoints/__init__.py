"""How the outside reaches the registry service: HTTP routes, Kafka consumers."""
