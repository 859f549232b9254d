"""common.ports: a taken port is a domain error with one line naming the option."""

from __future__ import annotations

import socket

import pytest

from common.ports import PortUnavailable, free_port


def test_port_0_is_a_free_port_chosen_now() -> None:
    port = free_port("127.0.0.1", 0)
    assert 0 < port < 65536
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_a_taken_port_names_the_option_that_sets_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortUnavailable) as caught:
            free_port("127.0.0.1", port, "--dashboard-port")
    assert str(caught.value) == f"127.0.0.1:{port} is already in use; pick another --dashboard-port"
