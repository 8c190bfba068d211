"""colorize.evaluate.report: tables and pictures of a result."""

import numpy as np

from colorize import evaluate


def test_contact_sheet_columns_groups_and_pads():
    samples = {"gray input": [np.zeros((4, 4, 3))] * 5, "m": [np.ones((4, 4, 3))] * 5}
    columns = evaluate.contact_sheet_columns(samples, groups=2)
    assert [name for name, _ in columns] == ["gray input", "m", "gray input", "m"]
    assert all(len(cells) == 3 for _, cells in columns)
    assert columns[3][1][2].shape == (8, 8, 3)  # the blank filler

