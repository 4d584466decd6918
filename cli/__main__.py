"""`python -m cli`: the same as the `crm-bulk` console script."""

from cli.main import app

app(prog_name="crm-bulk")
