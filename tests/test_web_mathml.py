"""Server-side LaTeX → MathML: the sanitiser refuses anything but plain MathML."""

from __future__ import annotations

import pytest

from gae_sym.web.mathml import UnsafeMathML, latex_to_mathml, question_parts, sanitise

NS = 'xmlns="http://www.w3.org/1998/Math/MathML"'


@pytest.mark.parametrize(
    ("markup", "reason"),
    [
        (f"<math {NS}><script>alert(1)</script></math>", "element 'script'"),
        (f'<math {NS}><mi onclick="alert(1)">x</mi></math>', "attribute 'onclick'"),
        (f'<math {NS}><mi href="javascript:alert(1)">x</mi></math>', "attribute 'href'"),
        (f'<math {NS}><mi mathvariant="x;y:url(a)">x</mi></math>', "attribute 'mathvariant'"),
        (f"<math {NS}><mi>&</mi></math>", "not well-formed"),
        (f'<math {NS}><foreignObject><img src="x"/></foreignObject></math>', "element"),
        ('<math><mi xmlns="http://www.w3.org/1999/xhtml">x</mi></math>', "element"),
        (f"<mrow {NS}><mi>x</mi></mrow>", "root"),
        ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "element"),
        (f'<!DOCTYPE math [<!ENTITY e "boom">]><math {NS}><mi>&e;</mi></math>', "declarations"),
        (f"<math {NS}><mi><![CDATA[<script>]]></mi></math>", "declarations"),
    ],
)
def test_sanitise_refuses(markup, reason):
    with pytest.raises(UnsafeMathML, match=reason):
        sanitise(markup)


def test_sanitise_keeps_mathml_and_escapes_text():
    out = sanitise(f"<math {NS}><mi>&lt;script&gt;</mi><mo>&#x02212;</mo></math>")
    assert out == f"<math {NS}><mi>&lt;script&gt;</mi><mo>−</mo></math>"


def test_converter_output_is_sanitised():
    pytest.importorskip("latex2mathml", reason="the 'web' extra (latex2mathml) is not installed")
    mathml = latex_to_mathml(r"\sum_{l=0}^{\infty} (\gamma\lambda)^{l} \delta_{t+l}")
    assert mathml.startswith(f"<math {NS}") and "<msubsup>" in mathml
    # latex2mathml copies a stray '&' as is (malformed XML): refused, shown as text instead.
    assert latex_to_mathml(r"V <x> &") is None
    assert latex_to_mathml("") is None
    assert latex_to_mathml("x" * 20_001) is None
    for hostile in (r"\href{javascript:alert(1)}{x}", r"\text{<script>}", r"\mathrm{<img>}"):
        out = latex_to_mathml(hostile)
        assert out is None or ("<script" not in out and "<img" not in out and "href" not in out)


def test_question_parts_keep_every_character():
    text = "What GAE(γ, λ) becomes at λ = 1 (infinite horizon, γ < 1)."
    parts = question_parts(text)
    assert "".join(p["text"] for p in parts) == text
    typeset = [p["text"] for p in parts if p.get("mathml")]
    assert typeset == ["γ", "λ", "λ = 1", "γ < 1"]
