"""colorize.layout: the file names of a run directory and a prepared set, spelled once."""

from pathlib import Path

from colorize import layout


def test_the_names_the_cli_and_the_readme_promise():
    assert (layout.CONFIG_NAME, layout.HISTORY_NAME, layout.BEST_NAME, layout.LAST_NAME) == (
        "config.json", "history.csv", "best.keras", "last.keras")  # fmt: skip
    assert (layout.MANIFEST_NAME, layout.AB_DISTRIBUTION_NAME) == ("manifest.json", "ab_distribution.npz")
    assert layout.SPLITS == ("train", "val", "test")


def test_no_module_spells_a_run_or_prepared_set_file_name_as_a_path():
    """Paths are joined with the constants: no ``/ "history.csv"`` outside layout.py."""
    package = Path(layout.__file__).parent
    names = [layout.CONFIG_NAME, layout.HISTORY_NAME, layout.BEST_NAME, layout.LAST_NAME, layout.MANIFEST_NAME,
             layout.AB_DISTRIBUTION_NAME, layout.INTERRUPTED_NAME]  # fmt: skip
    spelled = [(path.name, name) for path in package.rglob("*.py") if path.name != "layout.py"
               for name in names if f'/ "{name}"' in path.read_text()]  # fmt: skip
    assert not spelled
