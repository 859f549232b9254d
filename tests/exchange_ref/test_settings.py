"""Building the exchange's settings: environment, overrides, and one-line refusals."""

from __future__ import annotations

import pytest

from exchange_ref.settings import InvalidSettings, build_settings


def test_overrides_win_over_the_environment_and_none_means_not_given(monkeypatch):
    monkeypatch.setenv("PINCEX_PORT", "9001")
    monkeypatch.setenv("PINCEX_SYMBOLS", "BTCUSD")
    settings = build_settings(port=None, symbols="ethusd, solusd", create_dirs=False)
    assert settings.port == 9001
    assert settings.symbols == ["ETHUSD", "SOLUSD"]
    assert settings.create_dirs is False
    assert build_settings().create_dirs is True


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"admin_key": "short"}, "admin_key"),
        ({"symbols": "DOGEUSD"}, "symbols"),
        ({"port": 70000}, "port"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(overrides, where):
    with pytest.raises(InvalidSettings) as caught:
        build_settings(**overrides)
    message = str(caught.value)
    assert message.startswith(f"invalid setting {where}: ")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("env", "symbols"),
    [
        ("BTCUSD", ["BTCUSD"]),
        ("btcusd, ETHUSD,", ["BTCUSD", "ETHUSD"]),
        ('["SOLUSD", "ethusd"]', ["SOLUSD", "ETHUSD"]),
    ],
)
def test_symbols_from_the_environment(monkeypatch, env, symbols):
    monkeypatch.setenv("PINCEX_SYMBOLS", env)
    assert build_settings().symbols == symbols


def test_unreadable_symbols_from_the_environment_are_one_line(monkeypatch):
    monkeypatch.setenv("PINCEX_SYMBOLS", "[BTCUSD")
    with pytest.raises(InvalidSettings, match="symbols") as caught:
        build_settings()
    assert "\n" not in str(caught.value)
