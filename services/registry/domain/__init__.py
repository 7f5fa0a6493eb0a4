"""The registry's domain: pure, importing nothing from infrastructure."""
