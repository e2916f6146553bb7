"""Pure builders: typed config in, plain data out. No Pulumi resources are declared here."""
