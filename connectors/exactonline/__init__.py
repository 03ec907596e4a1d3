"""The Exact Online connector: the REST/OData API with OAuth, per-division call quotas, and its emulator."""
