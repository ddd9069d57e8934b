"""Where a discovery's outputs go: a folder of its own per condition and setting."""

from __future__ import annotations

from poolpilot.report.discovery import discovery_name


def test_a_condition_is_spelled_out_as_its_folder_name():
    assert discovery_name("return_on_pool > 0") == "return_on_pool_gt_0"
    assert discovery_name("`a.b` <= -0.05") == "a.b_le_-0.05"
    assert discovery_name("(x >= 1) & ~y") == "x_ge_1_and_not_y"


def test_different_conditions_and_settings_never_share_a_folder():
    names = {
        discovery_name("return_on_pool > 0"),
        discovery_name("return_on_pool >= 0"),
        discovery_name("return_on_pool < 0"),
        discovery_name("return_on_pool > 0", threshold=0.9),
        discovery_name("return_on_pool > 0", min_mass=0.1),
    }
    assert len(names) == 5


def test_a_condition_of_symbols_only_still_names_a_folder():
    assert discovery_name("()") == "condition"
