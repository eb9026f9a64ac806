"""``python -m dxval``: the same as the ``dxval`` command."""

from dxval.cli import run

run()
