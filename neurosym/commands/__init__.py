"""The handlers and argument definitions of the ``neurosym`` command groups; the entry point
and parser assembly live in :mod:`neurosym.cli`."""
