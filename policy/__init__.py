"""The project's Pulumi policy pack: rules in `policy/rules.py`, the pack in `policy/__main__.py`."""
