"""One ComponentResource per module; each takes providers from its caller."""
