"""`python -m tools.verify --stack <stack>`: proves that metrics, logs and traces arrive, end to end.

Reads the stack's outputs (`pulumi stack output --json --show-secrets`, or `--outputs FILE`) and its
settings file, then checks the collectors in the cluster and the data in Mimir, Loki and Tempo with
the read-only verification token (README "Verify"; runbooks: docs/runbooks.md#verify).

Runs on what `requirements.txt` installs (it runs in the deploy workflow's program virtualenv): the
standard library for HTTP and TLS (urllib, ssl), pyyaml for kubeconfigs and the project's builders.

    cli       arguments, the retry loop, output
    target    what to verify, from the stack's settings and outputs
    checks    the checks (a-f of issue 14), each a function returning one result line
    backends  Prometheus/Mimir, Loki and Tempo HTTP query APIs

and, shared with the program's cluster preflight, `clients`: `kube` (the Kubernetes API from a
kubeconfig: CA, client certs, tokens, exec plugins), `http` (the one HTTP GET every client uses),
`redact` (no credential is ever printed).
"""
