"""Every subcommand's --help says what it does and shows how to call it."""

from __future__ import annotations

import pytest

from bridge.cli import COMMANDS, main

SUBCOMMANDS = [[module.NAME] for module in COMMANDS] + [["woo", "register"], ["woo", "status"]]


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    out: str = capsys.readouterr().out
    return out


@pytest.mark.parametrize("argv", SUBCOMMANDS, ids=" ".join)
def test_subcommand_help_has_a_description_and_examples(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = _help(argv, capsys)
    usage, _, rest = out.partition("\n\n")
    assert usage.startswith(f"usage: woo-bridge {' '.join(argv)}")
    description = rest.split("\n\n")[0]
    # a sentence of its own, not argparse's options list
    assert not description.startswith(("options:", "positional arguments:"))
    assert len(description.split()) >= 5, description
    examples = out.split("\nexamples:\n", 1)
    assert len(examples) == 2, f"no examples in `{' '.join(argv)} --help`"
    calls = [line.strip() for line in examples[1].splitlines() if line.strip()]
    assert any(f"woo-bridge {' '.join(argv)}" in call for call in calls), calls


def test_examples_keep_their_line_breaks(capsys: pytest.CaptureFixture[str]) -> None:
    out = _help(["replay"], capsys)
    assert "\n  woo-bridge replay --id 42\n  woo-bridge replay --id 42 --id 43\n" in out


def test_top_level_help_points_to_the_subcommands_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert "woo-bridge COMMAND --help" in _help([], capsys)
