"""Load tests that follow the specification: mixed scenarios on a schedule, two engines.

config (config/loadtest.yaml) -> schedule (stages, due times) -> plan (routes, mix, users) ->
engine (ours, or Locust) -> result (columns per request) -> figures -> run in the store.
"""
