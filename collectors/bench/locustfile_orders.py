"""Locust users posting the specification's single order, as fast as they can (no wait time).

Run by `pincex bench generators` in its own process; pick the user class by name:

\b
    locust -f collectors/bench/locustfile_orders.py --headless -u 64 -r 64 -t 10s \
        --host http://127.0.0.1:8080 FastOrderUser
    locust -f collectors/bench/locustfile_orders.py ... HttpOrderUser

`--pincex-cpu-file PATH` (an option this file adds to Locust's) writes the process's CPU and
wall seconds between test start and stop, so the generator's CPU share excludes its start-up.

Never import this module from the `pincex` process: importing Locust monkey-patches the
standard library with gevent.
"""

from __future__ import annotations

import json
import time
from typing import Any

from locust import FastHttpUser, HttpUser, constant, events, task
from locust.env import Environment

__all__ = ["ORDER_BODY", "FastOrderUser", "HttpOrderUser"]

ORDER_BODY = (
    '{"symbol":"BTCUSD","side":"BUY","type":"LIMIT","timeInForce":"GTC",'
    '"quantity":0.01,"price":50000.0}'
)
_HEADERS = {"Content-Type": "application/json"}


class FastOrderUser(FastHttpUser):
    """geventhttpclient-based user: Locust's fastest HTTP client."""

    wait_time = constant(0)

    @task
    def post_order(self) -> None:
        self.client.post("/api/v1/orders", data=ORDER_BODY, headers=_HEADERS)


class HttpOrderUser(HttpUser):
    """requests-based user: Locust's default HTTP client."""

    wait_time = constant(0)

    @task
    def post_order(self) -> None:
        self.client.post("/api/v1/orders", data=ORDER_BODY, headers=_HEADERS)


_window: dict[str, float] = {}


def _add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--pincex-cpu-file",
        default="",
        include_in_web_ui=False,
        help="write this process's CPU and wall seconds between test start and stop (JSON)",
    )


def _test_start(environment: Environment, **_kwargs: Any) -> None:
    _window["cpu"] = time.process_time()
    _window["wall"] = time.perf_counter()


def _test_stop(environment: Environment, **_kwargs: Any) -> None:
    options = environment.parsed_options
    path = getattr(options, "pincex_cpu_file", "") if options is not None else ""
    if path and _window:
        window = {
            "cpu_s": time.process_time() - _window["cpu"],
            "wall_s": time.perf_counter() - _window["wall"],
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(window, f)


events.init_command_line_parser.add_listener(_add_arguments)
events.test_start.add_listener(_test_start)
events.test_stop.add_listener(_test_stop)
