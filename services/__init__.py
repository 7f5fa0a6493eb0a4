"""The platform's three services: registry, activities, reporting."""
