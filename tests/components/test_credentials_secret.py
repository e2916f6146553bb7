"""CredentialsSecret under mocks: the Secret the collectors read, as the cluster preflight knows it."""

from __future__ import annotations

import pulumi

from builders.preflight import SecretSeen
from tests.support import one, prepared, settled
from tools.mocks import unwrap

SECRET = "kubernetes:core/v1:Secret"


@pulumi.runtime.test
def test_the_next_runs_preflight_knows_the_secret_as_the_programs():
    """The preflight stops a run on a Secret of this name it does not recognise as the program's
    (builders/preflight.py): the label is how it recognises the local stack's own."""
    run = prepared("local").start()

    def check(run):
        secret = one(run, SECRET)
        metadata = secret.inputs["metadata"]
        assert metadata["labels"] == {"app.kubernetes.io/managed-by": "pulumi"}
        assert (metadata["name"], metadata["namespace"]) == ("grafana-cloud-credentials", "llm-judge")
        assert secret.inputs["type"] == "Opaque"
        as_read = {"metadata": metadata, "data": unwrap(secret.inputs["stringData"])}
        assert SecretSeen.from_object(as_read).written_by_program

    return settled(run, check)
