"""Development tooling beside the product: the demo and seeding (``manage.py demo``,
``manage.py seed_sessions``). It depends on the product's public functions and on the sandbox
Didit; no production module imports it (an import-linter contract in pyproject.toml)."""
