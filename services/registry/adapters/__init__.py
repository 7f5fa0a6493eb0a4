"""The registry's adapters: the database and the administrative-units dataset."""
