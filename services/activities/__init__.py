"""Activities: support recorded by sponsor units."""
