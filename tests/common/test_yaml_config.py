"""One strict loader for slo.yaml and capacity.yaml: the same one-line messages, with the line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from common.yaml_config import ConfigError, load_yaml
from pincex.commands.plan import plan
from pincex.commands.slo import slo
from planning import capacity
from planning import slo as slo_config

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {"slo": ROOT / "config" / "slo.yaml", "capacity": ROOT / "config" / "capacity.yaml"}
LOADERS = {"slo": slo_config.load_config, "capacity": capacity.load_config}
# a unique piece of each file; test entries go right after it, at its last line's indent
ANCHOR = {
    "slo": "  order_processing_p95_ms:\n    unit: ms\n",
    "capacity": "  daily_orders: 1000000\n",
}


def _edited(tmp_path: Path, which: str, add: str) -> tuple[Path, int]:
    """The shipped file with `add` inserted after the anchor; the line `add` lands on."""
    text = SHIPPED[which].read_text()
    anchor = ANCHOR[which]
    assert text.count(anchor) == 1
    at = text.index(anchor) + len(anchor)
    path = tmp_path / f"{which}.yaml"
    path.write_text(text[:at] + add + text[at:])
    return path, text[:at].count("\n") + 1


@pytest.mark.parametrize("which", ["slo", "capacity"])
def test_the_shipped_configs_load(which):
    LOADERS[which](SHIPPED[which])


@pytest.mark.parametrize("which", ["slo", "capacity"])
def test_a_duplicate_key_is_refused_in_both_files(tmp_path, which):
    key = ANCHOR[which].splitlines()[-1].split(":")[0]  # the anchor's last key, given twice
    path, line = _edited(tmp_path, which, f"{key}: 5\n")
    with pytest.raises(ConfigError) as info:
        LOADERS[which](path)
    name = key.strip()
    assert str(info.value) == (
        f"{path}: not valid YAML: line {line}, column {len(key) - len(name) + 1}: "
        f"duplicate key {name!r}"
    )


@pytest.mark.parametrize("which", ["slo", "capacity"])
def test_an_unknown_key_is_refused_with_its_line_in_both_files(tmp_path, which):
    last = ANCHOR[which].splitlines()[-1]
    indent = last[: len(last) - len(last.lstrip())]
    path, line = _edited(tmp_path, which, f"{indent}surplus_key: 1\n")
    with pytest.raises(ConfigError) as info:
        LOADERS[which](path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert ": unknown key 'surplus_key' (allowed: " in message
    assert message.endswith(f" (line {line})")
    assert "\n" not in message


@pytest.mark.parametrize("which", ["slo", "capacity"])
def test_a_missing_file_and_bad_yaml_read_the_same_in_both_files(tmp_path, which):
    missing = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError, match=rf"^{missing}: no such file$"):
        LOADERS[which](missing)
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match=rf"^{bad}: not valid YAML: line 2, column 1: "):
        LOADERS[which](bad)
    bad.write_text("- 1\n")
    with pytest.raises(ConfigError, match=rf"^{bad}: top level: expected a mapping, got a list"):
        LOADERS[which](bad)


def test_a_wrong_type_names_the_entry_and_its_line(tmp_path):
    text = SHIPPED["capacity"].read_text()
    path = tmp_path / "capacity.yaml"
    path.write_text(text.replace("orders_per_pod: 2000", "orders_per_pod: lots"))
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if "lots" in row)
    with pytest.raises(ConfigError) as info:
        capacity.load_config(path)
    assert str(info.value) == (
        f"{path}: calculate_capacity.trading_engine.orders_per_pod: expected a number, "
        f"got 'lots' (line {line})"
    )


def test_the_loader_keeps_lines_of_nested_entries(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a:\n  b:\n    - 1\n    - c: 2\n")
    document = load_yaml(path)
    assert document.data == {"a": {"b": [1, {"c": 2}]}}
    assert document.line(("a", "b", 1, "c")) == 4
    assert document.line(("a", "b", 0)) == 3
    assert document.line(("a", "missing")) == 1


@pytest.mark.parametrize(
    ("command", "args", "name"),
    [(plan, ["capacity"], "capacity.yaml"), (slo, ["check", "--results", "r.json"], "slo.yaml")],
)
def test_a_missing_default_config_names_the_path_and_the_variable(
    tmp_path, monkeypatch, command, args, name
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.json").write_text("{}")
    monkeypatch.setenv("PINCEX_CONFIG_DIR", str(tmp_path / "nowhere"))
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {tmp_path / 'nowhere' / name}: no such file "
        "(the default config; set PINCEX_CONFIG_DIR to its folder)\n"
    )


@pytest.mark.parametrize(
    ("command", "args", "which"),
    [(plan, ["capacity"], "capacity"), (slo, ["check", "--results", "r.json"], "slo")],
)
def test_the_default_config_comes_from_pincex_config_dir(
    tmp_path, monkeypatch, command, args, which
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.json").write_text("{}")
    folder = tmp_path / "cfg"
    folder.mkdir()
    key = ANCHOR[which].splitlines()[-1].split(":")[0]
    _edited(folder, which, f"{key}: 5\n")  # a duplicate: proves this file is the one read
    monkeypatch.setenv("PINCEX_CONFIG_DIR", str(folder))
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {folder / (which + '.yaml')}: not valid YAML: ")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("which", "right", "wrong"),
    [
        ("slo", "    unit: ms\n", "    units: ms\n"),
        ("capacity", "  daily_orders:", "  daily_order:"),
    ],
)
def test_a_misspelt_key_is_named_beside_the_missing_one(tmp_path, which, right, wrong):
    text = SHIPPED[which].read_text()
    path = tmp_path / f"{which}.yaml"
    path.write_text(text.replace(right, wrong, 1))
    with pytest.raises(ConfigError) as info:
        LOADERS[which](path)
    message = str(info.value)
    misspelt = wrong.split(":")[0].strip()
    assert message.startswith(f"{path}: ")
    assert f"missing{' unit' if which == 'slo' else ''}; is {misspelt!r} a misspelling? (line " in (
        message
    )
