"""The web app: what a province's coordinator and a sponsor unit's clerk open in their
browser. It signs people in at Keycloak and talks to the three services' HTTP APIs with
their token; it keeps no data of its own and writes nothing to the database or Kafka."""
