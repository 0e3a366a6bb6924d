"""``python -m gae_sym`` is the ``gae-sym`` command."""

from gae_sym.cli import main

raise SystemExit(main())
