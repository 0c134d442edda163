"""GradcheckReport renders in Jupyter as an HTML table with the same content as its str."""

import html
import re

import numpy as np

from tinygrad_edu import Tensor, gradcheck


def visible_text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def reports():
    x = Tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    y = Tensor(np.array([0.0, 1.0, 0.5]), requires_grad=True)
    yield gradcheck(lambda a, b: (a * b).sigmoid(), x, y)  # passes
    yield gradcheck(lambda a: a * a.detach(), x)  # a derivative hidden in a constant: fails
    yield gradcheck(lambda a: a.relu(), Tensor(np.array([0.0, 1.0]), requires_grad=True))  # a kink at 0


def test_html_report_holds_every_word_of_the_text_report():
    for report in reports():
        markup = report._repr_html_()
        assert markup.count("<tr") == len(report.inputs) + 1  # header and one row per input
        words = visible_text(markup).split()
        for word in str(report).split():
            assert word in words, f"{word!r} missing from the HTML report"


def test_failed_rows_are_marked_in_the_html_report():
    failing = list(reports())[1]
    assert not failing and 'style="color:#c00"' in failing._repr_html_()
    assert "FAILED" in visible_text(failing._repr_html_())
