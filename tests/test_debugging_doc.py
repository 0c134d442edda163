"""docs/debugging.md's first example (your own NumPy forward, unchanged) runs and prints what the page shows."""

import pathlib
import re
import runpy

DOC = pathlib.Path(__file__).parent.parent / "docs" / "debugging.md"


def test_first_example_prints_the_documented_report(tmp_path, capsys):
    text = DOC.read_text()
    section = text[text.index("## Pass your own forward function, unchanged"):]
    code, shown = re.search(r"```python\n(.*?)```\n\n```text\n(.*?)```", section, re.S).groups()
    script = tmp_path / "doc_example.py"
    script.write_text(code)
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out.replace(str(tmp_path) + "/", "") == shown
