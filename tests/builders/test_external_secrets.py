from __future__ import annotations

from builders import external_secrets as es
from builders.credentials import KEYS, SECRET_NAME, secret_entries
from builders.external_secrets import (
    IRSA_ROLE_ANNOTATION,
    OPERATOR_ACCOUNT,
    READER_ACCOUNT_NAME,
    STORE_KIND,
    aws_secret_name,
    external_secret_spec,
    operator_values,
    reader_annotations,
    secret_store_spec,
)


def test_external_secret_reads_every_key_of_the_local_secret():
    local_keys = list(secret_entries(**{f: f for f in KEYS.__dataclass_fields__}))
    assert KEYS.opencost_token in local_keys
    spec = external_secret_spec("c/grafana-cloud-credentials", local_keys)
    assert [d["secretKey"] for d in spec["data"]] == local_keys
    assert all(
        d["remoteRef"] == {"key": "c/grafana-cloud-credentials", "property": d["secretKey"]}
        for d in spec["data"]
    )
    assert spec["target"]["name"] == SECRET_NAME


def test_aws_secret_is_named_per_cluster():
    assert aws_secret_name("prod") != aws_secret_name("staging")


def test_store_authenticates_as_the_reader_account_of_its_own_namespace():
    aws = secret_store_spec("eu-west-1")["provider"]["aws"]
    assert aws["service"] == "SecretsManager" and aws["region"] == "eu-west-1"
    # No namespace: a SecretStore's serviceAccountRef is read in the store's namespace.
    assert aws["auth"]["jwt"]["serviceAccountRef"] == {"name": READER_ACCOUNT_NAME}
    assert reader_annotations("arn:aws:iam::1:role/r") == {IRSA_ROLE_ANNOTATION: "arn:aws:iam::1:role/r"}
    ref = external_secret_spec("c/grafana-cloud-credentials")["secretStoreRef"]
    assert ref["kind"] == STORE_KIND == "SecretStore"


def test_operator_has_no_aws_role_and_resources_everywhere():
    values = operator_values()
    assert values["serviceAccount"] == {"create": True, "name": OPERATOR_ACCOUNT.name}  # no annotations
    for block in (values, values["webhook"], values["certController"]):
        assert set(block["resources"]) == {"requests", "limits"}


def test_secret_entries_hold_opencosts_token_only_when_there_is_one():
    fields = {f: f for f in KEYS.__dataclass_fields__ if f != "opencost_token"}
    assert KEYS.opencost_token not in secret_entries(**fields)
    assert list(secret_entries(**fields)) == list(KEYS.all())
    assert secret_entries(**fields, opencost_token="t")[KEYS.opencost_token] == "t"


def test_the_operators_names_and_values_written_out() -> None:
    # ESO serves external-secrets.io/v1 since 0.17 (v1beta1 no longer served); its chart is
    # `external-secrets` at https://charts.external-secrets.io (external-secrets.io docs, "Getting
    # started"); IRSA reads the role from the `eks.amazonaws.com/role-arn` annotation
    # (https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html); ESO
    # re-syncs on a changed `force-sync` annotation (ESO docs, "Force a refresh").
    assert (es.API_VERSION, es.CHART, es.CHART_REPOSITORY) == (
        "external-secrets.io/v1",
        "external-secrets",
        "https://charts.external-secrets.io",
    )
    assert (es.OPERATOR_ACCOUNT.namespace, es.OPERATOR_ACCOUNT.name) == (
        "external-secrets",
        "external-secrets",
    )
    assert (es.STORE_KIND, es.STORE_NAME, es.READER_ACCOUNT_NAME) == (
        "SecretStore",
        "aws-secrets-manager",
        "grafana-cloud-credentials-reader",
    )
    assert es.reader_annotations("arn:aws:iam::111122223333:role/r") == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/r"
    }
    assert es.force_sync_annotation("2026-04-01T00:00:00Z") == {"force-sync": "2026-04-01T00:00:00Z"}
    assert es.external_secret_spec("c/grafana-cloud-credentials", ["K"])["refreshInterval"] == "15m"

    def res(rc: str, rm: str, lc: str, lm: str) -> dict[str, dict[str, str]]:
        return {"requests": {"cpu": rc, "memory": rm}, "limits": {"cpu": lc, "memory": lm}}

    assert es.operator_values() == {
        "installCRDs": True,
        "serviceAccount": {"create": True, "name": "external-secrets"},
        "resources": res("10m", "64Mi", "200m", "256Mi"),
        "webhook": {"resources": res("10m", "32Mi", "100m", "128Mi")},
        "certController": {"resources": res("10m", "32Mi", "100m", "128Mi")},
    }


def test_the_external_secret_is_written_out() -> None:
    # ESO ExternalSecret v1: the target Secret is created and owned by the ExternalSecret.
    assert external_secret_spec("c/grafana-cloud-credentials", ["A", "B"]) == {
        "refreshInterval": "15m",
        "secretStoreRef": {"kind": "SecretStore", "name": "aws-secrets-manager"},
        "target": {"name": "grafana-cloud-credentials", "creationPolicy": "Owner"},
        "data": [
            {"secretKey": "A", "remoteRef": {"key": "c/grafana-cloud-credentials", "property": "A"}},
            {"secretKey": "B", "remoteRef": {"key": "c/grafana-cloud-credentials", "property": "B"}},
        ],
    }
