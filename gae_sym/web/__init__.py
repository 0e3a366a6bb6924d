"""The homework web page (``gae-sym serve``): Starlette on uvicorn, optional extra ``web``.

:func:`gae_sym.web.app.create_app` builds the application; checks run in the sandboxed
worker processes of :mod:`gae_sym.homework.worker` through the bounded
:class:`gae_sym.web.pool.CheckPool`; maths is typeset on the server as sanitised MathML
(:mod:`gae_sym.web.mathml`). Nothing here is imported by ``import gae_sym``.
"""
