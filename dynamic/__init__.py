"""Pulumi dynamic resources: small providers whose code runs only during `pulumi up`/`preview`.

Kept out of `components/` because Pulumi serializes a dynamic provider into the state and runs
it in a separate process, which imports the modules it references: they must import cleanly,
without side effects. Under mocks (tests, offline synth) the engine never calls them.
"""
