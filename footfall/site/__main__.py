"""``python -m footfall.site FILE…``: the validate-config command on its own."""

from footfall.site.cli import validate_config

if __name__ == "__main__":
    validate_config(prog_name="python -m footfall.site")
