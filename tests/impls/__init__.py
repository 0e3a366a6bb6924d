"""Example GAE implementations for the property tests: correct ones written differently, and
buggy ones, each a mistake seen in real code. ``EXPECTED`` in each module maps a function
name to the diagnosis ``gae-sym verify-impl`` must give (None: correct; "" caught, no known
bug matches)."""
