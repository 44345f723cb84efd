"""lrlab's test suite (a package, so that `pytest` finds both `lrlab` and the shared helpers)."""
