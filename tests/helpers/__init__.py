"""Helpers shared by the tests: generated data, tiny models and
experiments, running the tools. Test modules import from here, never from
each other."""
