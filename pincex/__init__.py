"""The `pincex` command line."""
