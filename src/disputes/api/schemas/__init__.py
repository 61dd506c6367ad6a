"""Request and response schemas of the HTTP contract (shared/API.md), one module per resource."""
