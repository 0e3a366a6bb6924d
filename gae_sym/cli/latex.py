"""`gae-sym latex NAME`: the LaTeX of an estimator definition or of a derivation."""

from __future__ import annotations

import argparse

from gae_sym.cli._common import add_parser
from gae_sym.errors import UserError

DESCRIPTION = """\
Print LaTeX in lecture notation.

NAME is an estimator (td-error, nstep, mc, gae, lambda-return): its definition, and
on a second line its form in rewards and values where that differs (equations to put
in a math environment). Or NAME is a derivation id (see 'gae-sym prove'): its
summary, assumptions and one align* block per part, one step per line with its
reason beside it (for a document that loads amsmath and amssymb). 'lambda-return' names both an
estimator and a derivation: it gives the estimator; write 'derivation:lambda-return'
for the derivation ('estimator:NAME' and 'derivation:NAME' work for every name).

examples:
  gae-sym latex nstep
  gae-sym latex gae-recursion > gae-recursion.tex
  gae-sym latex derivation:lambda-return

exit status: 0 printed, 2 unknown NAME (the known names are listed)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_parser(subparsers, "latex", "LaTeX of an estimator or a derivation", DESCRIPTION)
    parser.add_argument("name", metavar="NAME", help="estimator name or derivation id")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(render(args.name), end="")
    return 0


def known_names() -> list[str]:
    """Estimator names, then derivation ids; a name that is both is listed once."""
    import derivations
    from gae_sym.estimators import estimators

    return list(dict.fromkeys([*estimators(), *derivations.ids()]))


def render(name: str) -> str:
    """The LaTeX for ``name``; ``UserError`` (exit 2) listing the known names otherwise."""
    import derivations
    from gae_sym.estimators import estimators

    kind, _, bare = name.rpartition(":")
    registry = estimators()
    if kind in ("", "estimator") and bare in registry:
        return estimator_latex(registry[bare])
    if kind in ("", "derivation") and bare in derivations.ids():
        return derivations.get(bare).to_latex()
    both = [x for x in registry if x in derivations.ids()]
    also = (
        f" ({', '.join(both)}: the estimator; 'derivation:NAME' for the derivation)" if both else ""
    )
    raise UserError(f"unknown name {name!r}; known: {', '.join(known_names())}{also}")


def estimator_latex(estimator) -> str:
    """``symbol = definition``, then ``symbol = form in rewards/values`` if different."""
    from gae_sym.printing import lecture_latex

    lines = [f"{estimator.symbol_latex} = {lecture_latex(estimator.definition)}"]
    if estimator.in_rewards != estimator.definition:
        lines.append(f"{estimator.symbol_latex} = {lecture_latex(estimator.in_rewards)}")
    return "\n".join(lines) + "\n"
