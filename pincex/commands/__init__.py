"""The `pincex` commands: the only place that parses arguments, prints for a person or as JSON,
and turns the libraries' errors into exit codes. `pincex.cli` assembles them into one group."""
