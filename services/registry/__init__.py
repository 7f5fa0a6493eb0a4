"""Registry: programmes, sponsor units, administrative units, assignments."""
